"""`dsdnas report`."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Annotated

import typer

from dsdnas.cli._common import console, handle_errors


@handle_errors
def report_command(
    run: Annotated[Path, typer.Argument(help="Run directory written by dsdnas search.")],
    out: Annotated[Path | None, typer.Option(help="HTML file to write. Default: RUN/report.html.")] = None,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the report in a browser.")] = False,
    storage: Annotated[str | None, typer.Option(help="Storage URL, when the run used --storage.")] = None,
) -> None:
    """Write one self-contained interactive HTML report of a run."""
    from dsdnas.api_report import report

    path = report(run, out, storage)
    console.print(f"report written to {path} ({path.stat().st_size / 2**20:.1f} MiB, works offline)")
    if open_browser:
        webbrowser.open(path.resolve().as_uri())
