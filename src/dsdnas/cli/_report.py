"""`dsdnas report`."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Annotated

import typer

from dsdnas.cli._common import console, handle_errors
from dsdnas.cli._options import ReferenceOption, RunArgument, StorageOption


@handle_errors
def report_command(
    *,  # Typer passes every option by name
    run: RunArgument,
    out: Annotated[Path | None, typer.Option(help="HTML file to write. Default: RUN/report.html.")] = None,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the report in a browser.")] = False,
    reference: ReferenceOption = None,
    storage: StorageOption = None,
) -> None:
    """Write one self-contained interactive HTML report of a run."""
    from dsdnas.api import report

    path = report(run, out=out, storage=storage, reference=reference)
    console.print(f"report written to {path} ({path.stat().st_size / 2**20:.1f} MiB, works offline)")
    if open_browser:
        webbrowser.open(path.resolve().as_uri())
