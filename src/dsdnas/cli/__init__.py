"""The `dsdnas` command line: thin Typer commands over the library."""

from __future__ import annotations

import typer

from dsdnas.cli._export import export_command
from dsdnas.cli._finetune import finetune_command
from dsdnas.cli._inspect import blocks_command, profile_command, spaces_command
from dsdnas.cli._report import report_command
from dsdnas.cli._search import search_command
from dsdnas.cli._trials import trials_command

app = typer.Typer(
    name="dsdnas",
    help="Depthwise-separable dilated NAS: search, profile, report, fine-tune and export small CNNs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("search")(search_command)
app.command("trials")(trials_command)
app.command("profile")(profile_command)
app.command("spaces")(spaces_command)
app.command("blocks")(blocks_command)
app.command("report")(report_command)
app.command("finetune")(finetune_command)
app.command("export")(export_command)


def main() -> None:
    app()
