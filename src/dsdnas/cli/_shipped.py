"""`dsdnas finetune RUN --front | --top K`: the members one after another, then the shipped front."""

from __future__ import annotations

import shlex
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from dsdnas.api.config import FinetuneConfig
from dsdnas.cli._common import MASKED_NOTE, console, human, masked, percent
from dsdnas.cli._progress import EpochProgress


def finetune_members(run: Any, config: FinetuneConfig) -> None:
    from dsdnas.api import finetune_front

    progress: list[EpochProgress] = []  # the bar of the member in training

    def on_member(event) -> None:
        where = f"member {event.index}/{event.total}, trial {event.trial}"
        if event.what == "skipped":
            console.print(f"{where}: already fine-tuned with these settings, kept", soft_wrap=True)
        elif event.what == "start":
            if event.resumed:
                console.print(f"{where}: going on from its last finished epoch", soft_wrap=True)
            progress.append(EpochProgress(f"{where}: fine-tune", config.epochs).__enter__())
        else:
            progress.pop().__exit__(None, None, None)
            metrics, (low, high) = event.result.metrics, event.result.test_interval
            console.print(
                f"{where}: test {percent(metrics['test_accuracy'])} [{100 * low:.1f}, {100 * high:.1f}], "
                f"{human(metrics['macs'])} MACs, {human(metrics['params'])} params, {metrics['train_s']:.1f} s",
                soft_wrap=True,
            )

    try:
        result = finetune_front(run, config=config, on_member=on_member, on_epoch=lambda s: progress[-1].update(s))
    finally:
        for bar in progress:
            bar.__exit__(None, None, None)
    console.print(shipped_table(result.shipped, title=f"the shipped front of {result.run_dir}"))
    for line in export_hint(run, result.storage):
        console.print(line, soft_wrap=True, markup=False)


def export_hint(run: Any, storage: str | None) -> list[str]:
    """The command that ships the knee of the shipped front, the storage's password masked."""
    where = shlex.quote(str(run)) + (f" --storage {shlex.quote(storage)}" if storage else "")
    lines = ["export now chooses among these by test accuracy:", f"  dsdnas export {where} --pick knee --out shipped"]
    return lines + ([MASKED_NOTE] if masked(storage) else [])


def shipped_table(shipped, *, title: str) -> Group:
    """The fine-tuned members, cheapest first: test accuracy with its interval beside the search's
    validation accuracy, costs and fine-tune time; best and knee of the shipped front marked, and
    the members it leaves out marked dominated. Fits 80 columns."""
    on_front, picks = {member.number for member in shipped.front}, shipped.picks
    table = Table(title=title, title_justify="left")
    for column in ("trial", "pick", "test [95% CI]", "search", "MACs", "params", "time"):
        table.add_column(column, justify="left" if column == "pick" else "right", no_wrap=True)
    for member in shipped.finished:
        low, high = member.test_interval
        table.add_row(
            str(member.number),
            picks.get(member.number, "") if member.number in on_front else "dominated",
            f"{percent(member.test_accuracy)} [{100 * low:.1f}, {100 * high:.1f}]",
            percent(member.val_accuracy),
            human(member.macs),
            human(member.params),
            f"{member.train_s:.0f} s",
        )
    legend = Text(
        "test: fine-tuned on all the training data, scored once on the test split; search: its validation "
        "accuracy in the search; dominated: another member is at least as accurate for no more MACs"
    )
    return Group(table, legend)
