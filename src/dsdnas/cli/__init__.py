"""The `dsdnas` command line: thin Typer commands over the library."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from dsdnas.cli._baseline import baseline_command
from dsdnas.cli._common import EXIT_INTERRUPTED
from dsdnas.cli._export import export_command
from dsdnas.cli._finetune import finetune_command
from dsdnas.cli._inspect import blocks_command, profile_command, spaces_command
from dsdnas.cli._report import report_command
from dsdnas.cli._search import search_command
from dsdnas.cli._trials import trials_command


def _version(value: bool) -> None:
    if value:
        from dsdnas.version import __version__

        typer.echo(f"dsdnas {__version__}")
        raise typer.Exit()


app = typer.Typer(
    name="dsdnas",
    help="Depthwise-separable dilated NAS: search, profile, report, fine-tune and export small CNNs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Depthwise-separable dilated NAS: search, profile, report, fine-tune and export small CNNs."""


app.command("search")(search_command)
app.command("trials")(trials_command)
app.command("profile")(profile_command)
app.command("spaces")(spaces_command)
app.command("blocks")(blocks_command)
app.command("report")(report_command)
app.command("finetune")(finetune_command)
app.command("export")(export_command)
app.command("baseline")(baseline_command)


def main() -> None:
    """The `dsdnas` command (and `python -m dsdnas`)."""
    try:
        app()
    except SystemExit as exit_:
        if exit_.code == EXIT_INTERRUPTED:
            # Ctrl-C was handled and reported; end now. Interpreter shutdown could otherwise meet
            # a stale KeyboardInterrupt from a worker thread and exit by SIGINT (-2) instead of 130.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)
        raise
