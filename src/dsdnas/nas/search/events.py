"""What a running search tells whoever watches it (the CLI's live view, a notebook).

The engine calls these hooks; it never prints. Every hook has a no-op default.
"""

from __future__ import annotations

from typing import Any

from dsdnas.nas.training.stats import EpochStats  # no torch: the CLI imports this module at start-up


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

    def search_finished(self, reason: str) -> None:
        pass
