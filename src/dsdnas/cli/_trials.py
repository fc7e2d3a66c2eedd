"""`dsdnas trials`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from dsdnas.cli._common import accuracy_cell, console, handle_errors, human, latency_cell
from dsdnas.cli._options import RunArgument, StorageOption


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

    if baselines:
        _print_baselines(run, storage)
        return

    study_name, frame = trials(run, storage=storage, pareto=pareto)
    table = Table(title=f"{study_name}: {len(frame)} trials", title_justify="left")
    for column in ("trial", "status", "val accuracy [95% CI]", "MACs", "params", "latency", "pareto", "notation"):
        table.add_column(column, justify="left" if column in ("status", "notation") else "right")
    for row in frame.to_dict("records"):
        table.add_row(
            str(row["trial"]),
            row["status"] if not row["reason"] else f"{row['status']}: {row['reason']}",
            accuracy_cell(row),
            human(row["macs"]),
            human(row["params"]),
            latency_cell(row),
            "*" if row["pareto"] else "",
            row["notation"],
        )
    console.print(table)


def _print_baselines(run, storage: str | None) -> None:
    from dsdnas.api import against_baselines

    frame, comparisons = against_baselines(run, storage=storage)
    if frame.empty:
        console.print(f"{run} has no reference model yet: train one with `dsdnas baseline {run} --model seed-cnn`")
        return
    table = Table(title="reference models", title_justify="left")
    for column in ("model", "scored on", "accuracy [95% CI]", "MACs", "params", "latency", "epochs"):
        table.add_column(column, justify="left" if column in ("model", "scored on") else "right")
    for row in frame.to_dict("records"):
        table.add_row(
            row["baseline"],
            row["split"],
            accuracy_cell(row),
            human(row["macs"]),
            human(row["params"]),
            latency_cell(row),
            str(row["epochs"]),
        )
    console.print(table)
    for comparison in comparisons:
        console.print(comparison["sentence"])
