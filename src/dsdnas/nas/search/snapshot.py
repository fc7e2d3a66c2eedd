"""The study as one read: its trials read once and served to every reader of one pass.

Optuna's storage answers each read of the trials with a query of its own (about 7 ms on SQLite), and
`study.trials` and `study.best_trials` deep-copy every trial (about 60 ms at 40 of ours, each with its
40-key record). TPE reads the study once for each choice it samples, and the loop's bookkeeping after a
trial a dozen times more: 27 reads a trial, 0.26 s a trial over an 80-trial search (cProfile, see
docs/benchmarks.md, "Reading the study once"). A `Snapshot` reads once; every reader of the pass then
sees the same trials, which also keeps trials.csv and the front consistent with each other while other
workers finish trials. Everything else, writes included, goes to the study itself.
"""

from __future__ import annotations

import copy
from collections.abc import Container
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState


class Snapshot:
    """`study`, its trials as they were when this was made. The trials are shared: never change one."""

    def __init__(self, study: optuna.Study) -> None:
        self._study = study
        self._trials = study.get_trials(deepcopy=False)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)

    def get_trials(self, deepcopy: bool = True, states: Container[TrialState] | None = None) -> list[FrozenTrial]:
        return self._get_trials(deepcopy=deepcopy, states=states)

    def _get_trials(
        self, deepcopy: bool = True, states: Container[TrialState] | None = None, use_cache: bool = False
    ) -> list[FrozenTrial]:
        trials = self._trials if states is None else [t for t in self._trials if t.state in states]
        return copy.deepcopy(trials) if deepcopy else trials

    @property
    def trials(self) -> list[FrozenTrial]:
        """Every trial, not copied (Optuna's copies every one)."""
        return self._trials

    @property
    def best_trials(self) -> list[FrozenTrial]:
        """The front as Optuna computes it, constraints honoured, over this snapshot's trials, not copied."""
        return optuna.Study.best_trials.fget(self)  # type: ignore[attr-defined]  # reads self.trials, self.get_trials
