"""Live search progress: a rich view on a terminal, plain log lines otherwise.

Both print one line for every candidate that finishes, whatever became of it (trained,
reused, stopped, skipped, failed, twin), in one format (`finished_line`), so the scrollback
is the search's whole log. On a terminal the live view below it shows the trials done with
their elapsed time and what is left, the candidate in training with its own epoch bar and
times (its notation cut to fit the width: the full one is in its line when it finishes),
every running trial, and the front so far.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from dsdnas.api.events import EpochStats, RunningTrial, SearchObserver
from dsdnas.cli._common import accuracy_cell, console, human, interactive
from dsdnas.cli._front import front_table


def finished_line(number: int, row: dict[str, Any], finished: int) -> str:
    """trial 7 trained: <notation> | 91.25% [88.1, 93.6], 1.03M MACs | evaluated 8: one line per candidate."""
    costs = f"{human(row['macs'])} MACs" if row.get("macs") is not None else ""
    score = accuracy_cell(row) if row.get("accuracy") is not None and row["status"] != "skipped" else ""
    detail = ", ".join(part for part in (score, costs) if part)
    reason = f" | {row['reason']}" if row.get("reason") else ""
    return f"trial {number} {row['status']}: {row['notation'] or '-'} | {detail or '-'}{reason} | evaluated {finished}"


def fit(text: str, width: int) -> str:
    """`text` cut to `width` characters, with an ellipsis when cut."""
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def running_table(running: list[RunningTrial]) -> Table:
    table = Table(title="running now", title_justify="left")
    for column in ("trial", "for", "worker", "notation"):
        table.add_column(column, justify="left" if column in ("worker", "notation") else "right", overflow="fold")
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
        self._line(finished_line(number, row, finished))

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
    """Trials done with elapsed time and time left, the current candidate with its own epoch bar, and the front."""

    def __init__(self) -> None:
        self.bar_width = 10 if console.width < 100 else 20
        # Columns the bar, the counts and the two labelled times take beside a description.
        self.fixed_width = self.bar_width + 38
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=self.bar_width),
            MofNCompleteColumn(),
            TextColumn("elapsed"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=console,
        )
        self.trials_task = self.epoch_task = self.clock_task = None
        self.budget_s: float | None = None
        self.front: list[dict[str, Any]] = []
        self.running_now: list[RunningTrial] = []
        self.live = Live(self._view(), console=console, refresh_per_second=4)
        self.started = time.monotonic()

    def _view(self) -> Group:
        parts = [self.progress]
        if self.running_now:
            parts.append(running_table(self.running_now))
        if self.front:
            parts.append(front_table(self.front, title="Pareto front so far, by cost", width=console.width))
        return Group(*parts)

    def running(self, trials: list[RunningTrial]) -> None:
        """Every running candidate, this process's and other workers' (--jobs, other machines)."""
        self.running_now = trials
        if self.clock_task is not None:
            self.progress.update(self.clock_task, completed=min(self.budget_s, time.monotonic() - self.started))
        self.live.update(self._view())

    def search_started(self, finished: int, target: int | None, seconds: float | None, note: str) -> None:
        if note:
            console.print(note, soft_wrap=True)
        if self.trials_task is None:
            self.trials_task = self.progress.add_task("trials", total=target, completed=finished)
            if seconds is not None:  # a time budget: its own bar, so "left" is the budget's
                self.budget_s = seconds
                self.clock_task = self.progress.add_task("time budget (s)", total=seconds)
            self.epoch_task = self.progress.add_task("epochs", total=1, visible=False)
            self.live.start()

    def trial_started(self, number: int, notation: str, epochs: int) -> None:
        room = max(12, console.width - self.fixed_width)  # the full notation is in the trial's finished line
        self.progress.reset(
            self.epoch_task,
            total=epochs,
            completed=0,
            visible=True,
            description=fit(f"trial {number}: {notation}", room),
        )  # reset: the epoch bar's times are this trial's

    def epoch_finished(self, number: int, stats: EpochStats) -> None:
        self.progress.update(self.epoch_task, completed=stats.epoch)

    def waiting(self, running: int, finished: int) -> None:
        self.progress.update(self.epoch_task, visible=False)
        console.print(waiting_line(running, finished), soft_wrap=True)

    def trial_finished(self, number: int, row: dict[str, Any], front: list[dict[str, Any]], finished: int) -> None:
        self.progress.update(self.trials_task, completed=finished)
        console.print(Text(finished_line(number, row, finished)))  # above the live view, kept, wrapped by words
        self.front = front
        self.live.update(self._view())

    def search_finished(self, reason: str) -> None:
        self.progress.update(self.epoch_task, visible=False)
        self.live.update(Group(self.progress))
        self.live.stop()
        console.print(reason, soft_wrap=True)


class EpochProgress:
    """Progress of one training run (a fine-tune, a baseline): a bar with its times on a terminal, else one
    plain line per epoch. Use as a context manager; `update` is the trainer's `on_epoch`."""

    def __init__(self, what: str, epochs: int) -> None:
        self.what, self.epochs = what, epochs
        self.bar = None
        if interactive():
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=20),
                MofNCompleteColumn(),
                TextColumn("elapsed"),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[last]}"),
                console=console,
            )
            self.task = self.bar.add_task(what, total=epochs, last="")

    def __enter__(self) -> EpochProgress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def update(self, stats: EpochStats) -> None:
        score = f", validation {100 * stats.val_accuracy:.2f}%" if stats.val_accuracy is not None else ""
        last = f"loss {stats.train_loss:.4f}{score}"
        if self.bar is not None:
            self.bar.update(self.task, completed=stats.epoch, last=last)
        else:
            console.print(
                f"{self.what}: epoch {stats.epoch}/{self.epochs}, {last}, {stats.seconds:.1f} s", soft_wrap=True
            )
