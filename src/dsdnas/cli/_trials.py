"""`dsdnas trials`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from dsdnas.cli._common import accuracy_cell, console, handle_errors, human, latency_cell
from dsdnas.cli._front import NARROW, front_table
from dsdnas.cli._options import RunArgument, StorageOption
from dsdnas.errors import DsdnasError


@handle_errors
def trials_command(
    *,  # Typer passes every option by name
    run: RunArgument,
    pareto: Annotated[bool, typer.Option("--pareto", help="Only the Pareto front.")] = False,
    baselines: Annotated[
        bool, typer.Option("--baselines", help="The reference models, and the front candidates that match them.")
    ] = False,
    storage: StorageOption = None,
) -> None:
    """Print the trials of a run."""
    from dsdnas.api import trials

    if pareto and baselines:
        raise DsdnasError("--pareto and --baselines are two views of a run: pass one (--baselines lists the matches)")
    if baselines:
        _print_baselines(run, storage)
        return

    study_name, frame = trials(run, storage=storage, pareto=pareto)
    rows = frame.to_dict("records")
    if pareto:
        tuned = {
            row["trial"]: {"accuracy": row["test_accuracy"], "low": row["test_low"], "high": row["test_high"]}
            for row in rows
            if row["test_accuracy"] == row["test_accuracy"] and row["test_accuracy"] is not None  # not NaN
        }
        title = f"{study_name}: the Pareto front, by cost"
        console.print(front_table(rows, title=title, tuned=tuned, width=console.width))
        return
    narrow = console.width < NARROW
    # Narrow, the seven columns fit 80 with one space between them (each cell padded on both sides took 86,
    # and the status column was squeezed to a letter a line); the reasons and notations follow the table.
    table = Table(
        title=f"{study_name}: {len(frame)} trials", title_justify="left", collapse_padding=narrow, pad_edge=not narrow
    )
    columns = ["trial", "status", "val accuracy [95% CI]", "MACs", "params", "latency", "pareto"]
    for column in [*columns, *([] if narrow else ["notation"])]:
        table.add_column(
            column,
            justify="left" if column in ("status", "notation") else "right",
            no_wrap=narrow or column not in ("status", "notation"),
            overflow="ellipsis" if narrow else "fold",  # under 78 columns a cut cell says so with …
        )
    for row in rows:
        status = row["status"] if narrow or not row["reason"] else f"{row['status']}: {row['reason']}"
        cells = [accuracy_cell(row), human(row["macs"]), human(row["params"]), latency_cell(row)]
        notation = [] if narrow else [row["notation"]]
        table.add_row(str(row["trial"]), status, *cells, "*" if row["pareto"] else "", *notation)
    console.print(table)
    if narrow:  # the notations, and the reasons, under the table: whole and readable at any width
        for row in rows:
            reason = f" ({row['reason']})" if row["reason"] else ""
            console.print(f"trial {row['trial']}: {row['notation']}{reason}", markup=False)


def _print_baselines(run, storage: str | None) -> None:
    from dsdnas.api import against_baselines

    frame, comparisons = against_baselines(run, storage=storage)
    if frame.empty:
        console.print(f"{run} has no reference model yet: train one with `dsdnas baseline {run} --model seed-cnn`")
        return
    table = Table(title="reference models", title_justify="left")
    for column in ("model", "scored on", "accuracy [95% CI]", "MACs", "params", "latency", "timed in", "epochs"):
        table.add_column(column, justify="left" if column in ("model", "scored on", "timed in") else "right")
    for row in frame.to_dict("records"):
        table.add_row(
            row["baseline"],
            row["split"],
            accuracy_cell(row),
            human(row["macs"]),
            human(row["params"]),
            latency_cell(row),
            row["latency_runtime"],
            str(row["epochs"]),
        )
    console.print(table)
    for comparison in comparisons:
        console.print(comparison["sentence"])
