"""Experiments for bench_search.py: TPE shown the stopped (PRUNED) trials, and a shorter start-up.

dsdnas's TPE never sees candidates stopped at a rung (nas/search/samplers.py). The
alternative is Optuna's plain TPE, which ranks every PRUNED trial after every COMPLETE
one: a stopped candidate lands in its "worse" group, steering it away from that region,
and counts towards its 10 random start-up trials. `shown_stopped()` makes the search use
that sampler for the duration of a `with` block, so the two can be measured side by side.

`early_start()` makes the default sampler (`tpe+mutate`) leave its random start-up after
5 complete candidates instead of 10: TPE models, and mutations begin (a half of the trials
until the 10th complete one, then 10/n as before). With early stopping keeping half,
10 complete candidates take about 15-20 evaluated ones, a third of a 180 s search, in
which every method is the same random sampling. Measured on Fashion-MNIST (benchmarks.md,
"sixth"), the start-up of 5 ended after 26 s and level with plain TPE at 60 s, but the
search ended below the default's: TPE models worse from 5 points. It is not the default.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import optuna

from dsdnas.nas.search import study as study_module
from dsdnas.nas.search.samplers import MUTATE_SHARE, TPE_OPTIONS, StartupPick, TPEWithMutations, sampler_seed

EARLY_STARTUP = 5  # complete candidates of random start-up in early_start(), against TPE_OPTIONS' 10


@contextlib.contextmanager
def _sampler_made_by(make: Callable[..., optuna.samplers.BaseSampler]) -> Iterator[None]:
    """The search makes its sampler with `make` inside the block, as `study.make_sampler` would."""
    original = study_module.make_sampler
    study_module.make_sampler = make
    try:
        yield
    finally:
        study_module.make_sampler = original


def shown_stopped() -> contextlib.AbstractContextManager[None]:
    def make(
        name: str, seed: int, existing_trials: int, *, salt: int = 0, startup_pick: StartupPick | None = None
    ) -> optuna.samplers.BaseSampler:
        return optuna.samplers.TPESampler(seed=sampler_seed(seed, existing_trials, salt), **TPE_OPTIONS)

    return _sampler_made_by(make)


class EarlyMutations(TPEWithMutations):
    def share(self, complete: int) -> float:
        return MUTATE_SHARE * min(1.0, TPE_OPTIONS["n_startup_trials"] / complete)  # a half until the 10th


def early_start() -> contextlib.AbstractContextManager[None]:
    def make(
        name: str, seed: int, existing_trials: int, *, salt: int = 0, startup_pick: StartupPick | None = None
    ) -> optuna.samplers.BaseSampler:
        options = {**TPE_OPTIONS, "n_startup_trials": EARLY_STARTUP}
        return EarlyMutations(seed=sampler_seed(seed, existing_trials, salt), startup_pick=startup_pick, **options)

    return _sampler_made_by(make)
