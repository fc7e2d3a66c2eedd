"""Live search progress: a rich view on a terminal, plain log lines otherwise."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from dsdnas.api.events import EpochStats, SearchObserver
from dsdnas.cli._common import console, human, percent


def front_table(front: list[dict[str, Any]], title: str = "Pareto front") -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("trial", "accuracy", "MACs", "params", "latency", "notation"):
        table.add_column(column, justify="left" if column == "notation" else "right")
    for row in front:
        table.add_row(
            str(row["trial"]),
            percent(row["accuracy"]),
            human(row["macs"]),
            human(row["params"]),
            f"{row['latency_ms']:.3f} ms" if row.get("latency_ms") is not None else "-",
            row["notation"],
        )
    return table


class PlainObserver(SearchObserver):
    """One log line per event, for --quiet and for output that is not a terminal."""

    def search_started(self, finished: int, target: int | None, seconds: float | None, note: str) -> None:
        if note:
            console.print(note)
        goal = f"budget {target} trials" if target is not None else f"time budget {seconds:g} s"
        console.print(f"search: {finished} finished trials in the study; {goal}")

    def trial_finished(self, number: int, row: dict[str, Any], front: list[dict[str, Any]], finished: int) -> None:
        detail = row["reason"] or f"acc {percent(row['accuracy'])} MACs {human(row['macs'])}"
        console.print(f"trial {number} {row['status']}: {row['notation']} | {detail} | finished {finished}")

    def waiting(self, running: int, finished: int) -> None:
        console.print(waiting_line(running, finished))

    def search_finished(self, reason: str) -> None:
        console.print(reason)


def waiting_line(running: int, finished: int) -> str:
    return f"waiting: {finished} finished and {running} running in other workers fill the budget"


class RichObserver(SearchObserver):
    """Trials done with ETA, the current candidate, an epoch bar and the front so far."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        self.trials_task = None
        self.epoch_task = None
        self.front: list[dict[str, Any]] = []
        self.live = Live(self._view(), console=console, refresh_per_second=4)
        self.started = time.monotonic()

    def _view(self) -> Group:
        return Group(self.progress, front_table(self.front)) if self.front else Group(self.progress)

    def search_started(self, finished: int, target: int | None, seconds: float | None, note: str) -> None:
        if note:
            console.print(note)
        total = target if target is not None else None
        if self.trials_task is None:
            self.trials_task = self.progress.add_task("trials", total=total, completed=finished)
            self.epoch_task = self.progress.add_task("epochs", total=1, visible=False)
            self.live.start()

    def trial_started(self, number: int, notation: str, epochs: int) -> None:
        self.progress.update(
            self.epoch_task, description=f"trial {number}: {notation}", total=epochs, completed=0, visible=True
        )

    def epoch_finished(self, number: int, stats: EpochStats) -> None:
        self.progress.update(self.epoch_task, completed=stats.epoch)

    def waiting(self, running: int, finished: int) -> None:
        self.progress.update(self.epoch_task, visible=False)
        console.print(waiting_line(running, finished))

    def trial_finished(self, number: int, row: dict[str, Any], front: list[dict[str, Any]], finished: int) -> None:
        self.progress.update(self.trials_task, completed=finished)
        self.front = front
        self.live.update(self._view())

    def search_finished(self, reason: str) -> None:
        self.progress.update(self.epoch_task, visible=False)
        self.live.update(Group(self.progress))
        self.live.stop()
        console.print(reason)
