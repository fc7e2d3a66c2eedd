"""`dsdnas trials`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from dsdnas.cli._common import console, handle_errors, human, percent
from dsdnas.cli._options import RunArgument, StorageOption


@handle_errors
def trials_command(
    run: RunArgument,
    pareto: Annotated[bool, typer.Option("--pareto", help="Only the Pareto front.")] = False,
    storage: StorageOption = None,
) -> None:
    """Print the trials of a run."""
    from dsdnas.api import trials

    study_name, frame = trials(run, storage=storage, pareto=pareto)
    table = Table(title=f"{study_name}: {len(frame)} trials", title_justify="left")
    for column in ("trial", "status", "accuracy", "MACs", "params", "latency", "pareto", "notation"):
        table.add_column(column, justify="left" if column in ("status", "notation") else "right")
    for row in frame.to_dict("records"):
        latency = row["latency_ms"]
        table.add_row(
            str(row["trial"]),
            row["status"] if not row["reason"] else f"{row['status']}: {row['reason']}",
            percent(row["accuracy"]),
            human(row["macs"]),
            human(row["params"]),
            "-" if latency is None or latency != latency else f"{latency:.3f} ms",
            "*" if row["pareto"] else "",
            row["notation"],
        )
    console.print(table)
