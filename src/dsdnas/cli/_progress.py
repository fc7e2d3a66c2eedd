"""Live search progress: a rich view on a terminal, plain log lines otherwise."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from dsdnas.api.events import EpochStats, RunningTrial, SearchObserver
from dsdnas.cli._common import accuracy_cell, console, human, latency_cell, percent


def front_table(front: list[dict[str, Any]], title: str = "Pareto front") -> Table:
    """The front with 95% intervals; latencies measured again together at the end when there are."""
    remeasured = any("remeasured_latency_ms" in row for row in front)
    table = Table(title=title, title_justify="left")
    latency = "latency (again, together)" if remeasured else "latency"
    for column in ("trial", "val accuracy [95% CI]", "MACs", "params", latency, "notation"):
        table.add_column(column, justify="left" if column == "notation" else "right")
    for row in front:
        table.add_row(
            str(row["trial"]),
            accuracy_cell(row),
            human(row["macs"]),
            human(row["params"]),
            latency_cell(row, "remeasured_" if remeasured else ""),
            row["notation"],
        )
    return table


def running_table(running: list[RunningTrial]) -> Table:
    table = Table(title="running now", title_justify="left")
    for column in ("trial", "for", "worker", "notation"):
        table.add_column(column, justify="left" if column in ("worker", "notation") else "right")
    for trial in running:
        table.add_row(str(trial.number), f"{trial.seconds:.0f} s", trial.worker, trial.notation or "(sampling)")
    return table


class PlainObserver(SearchObserver):
    """One log line per event, for --quiet and for output that is not a terminal."""

    def __init__(self) -> None:
        self._announced: set[int] = set()

    @staticmethod
    def _line(text: str) -> None:
        console.print(text, soft_wrap=True)  # one event, one line, however narrow the terminal (logs are grepped)

    def search_started(self, finished: int, target: int | None, seconds: float | None, note: str) -> None:
        if note:
            self._line(note)
        goal = f"budget {target} trials" if target is not None else f"time budget {seconds:g} s"
        self._line(f"search: {finished} evaluated trials in the study; {goal}")

    def trial_finished(self, number: int, row: dict[str, Any], front: list[dict[str, Any]], finished: int) -> None:
        detail = row["reason"] or f"acc {percent(row['accuracy'])} MACs {human(row['macs'])}"
        self._line(f"trial {number} {row['status']}: {row['notation']} | {detail} | evaluated {finished}")

    def waiting(self, running: int, finished: int) -> None:
        self._line(waiting_line(running, finished))

    def running(self, trials: list[RunningTrial]) -> None:
        for trial in trials:
            if trial.notation and trial.number not in self._announced:  # once sampled
                self._announced.add(trial.number)
                self._line(f"trial {trial.number} running: {trial.notation} | {trial.worker}")

    def search_finished(self, reason: str) -> None:
        self._line(reason)


def waiting_line(running: int, finished: int) -> str:
    return f"waiting: {finished} evaluated and {running} running in other workers fill the budget"


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
        self.running_now: list[RunningTrial] = []
        self.live = Live(self._view(), console=console, refresh_per_second=4)
        self.started = time.monotonic()

    def _view(self) -> Group:
        parts = [self.progress]
        if self.running_now:
            parts.append(running_table(self.running_now))
        if self.front:
            parts.append(front_table(self.front))
        return Group(*parts)

    def running(self, trials: list[RunningTrial]) -> None:
        """Every running candidate, this process's and other workers' (--jobs, other machines)."""
        self.running_now = trials
        self.live.update(self._view())

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
        if row["status"] == "stopped":  # early stopping: say at which rung, above the live view
            console.print(f"trial {number} {row['reason']} ({row['notation']})")
        self.front = front
        self.live.update(self._view())

    def search_finished(self, reason: str) -> None:
        self.progress.update(self.epoch_task, visible=False)
        self.live.update(Group(self.progress))
        self.live.stop()
        console.print(reason)
