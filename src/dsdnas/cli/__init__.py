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
from dsdnas.cli._lut import lut_command
from dsdnas.cli._report import report_command
from dsdnas.cli._search import search_command
from dsdnas.cli._trials import trials_command


def _version(value: bool) -> None:
    if value:
        from dsdnas.version import __version__

        typer.echo(f"dsdnas {__version__}")
        raise typer.Exit()


class _Command(typer.core.TyperCommand):
    """Usage lines as people write them: `dsdnas report [OPTIONS] RUN`, not Typer's `{run}`."""

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = param.metavar or param.name.upper()
                name = name if param.required else f"[{name}]"
                pieces.append(f"{name}..." if param.nargs != 1 else name)
        return pieces


app = typer.Typer(
    name="dsdnas",
    help="Depthwise-separable dilated NAS: search, profile, report, fine-tune and export small CNNs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # plain help: flags without a <bool> type, option texts unsqueezed at any width
)


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Depthwise-separable dilated NAS: search, profile, report, fine-tune and export small CNNs."""


app.command("search", cls=_Command, short_help="Search architectures (resumable: rerun to go on).")(search_command)
app.command("trials", cls=_Command, short_help="Print a run's trials, or its front.")(trials_command)
app.command("profile", cls=_Command, short_help="MACs, params and latency of one architecture.")(profile_command)
app.command("spaces", cls=_Command, short_help="List search spaces and their exact cost ranges.")(spaces_command)
app.command("lut", cls=_Command, short_help="Time every layer of a space once, on the target device.")(lut_command)
app.command("blocks", cls=_Command, short_help="Compare standard, separable and dilated blocks.")(blocks_command)
app.command("report", cls=_Command, short_help="Write a run's self-contained HTML report.")(report_command)
app.command("finetune", cls=_Command, short_help="Train a chosen model to its best test accuracy.")(finetune_command)
app.command("export", cls=_Command, short_help="Export a model as standalone model.py + weights.")(export_command)
app.command("baseline", cls=_Command, short_help="Train a reference model on the run's split.")(baseline_command)


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
