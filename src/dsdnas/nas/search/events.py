"""What a running search tells whoever watches it (the CLI's live view, a notebook).

The engine calls these hooks; it never prints. Every hook has a no-op default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dsdnas.nas.training.stats import EpochStats  # no torch: the CLI imports this module at start-up


@dataclass(frozen=True)
class RunningTrial:
    number: int
    notation: str
    worker: str  # host:pid
    seconds: float  # since it started


class SearchObserver:
    def search_started(self, finished: int, target: int | None, seconds: float | None, note: str) -> None:
        """`finished` trials already in the study; `target` the budget in trials, if any."""

    def trial_started(self, number: int, notation: str, epochs: int) -> None:
        pass

    def waiting(self, running: int, finished: int) -> None:
        """No trial left to start: `running` trials of other workers may still meet the budget."""

    def epoch_finished(self, number: int, stats: EpochStats) -> None:
        pass

    def trial_finished(self, number: int, row: dict[str, Any], front: list[dict[str, Any]], finished: int) -> None:
        """`row` summarizes the trial; `front` is the Pareto front so far."""

    def running(self, trials: list[RunningTrial]) -> None:
        """Every trial RUNNING in the study now, whichever worker runs it (called about once a second)."""

    def should_stop(self) -> str | None:
        """A reason to start no further trial (checked before each), or None to go on."""
        return None

    def search_finished(self, reason: str) -> None:
        pass
