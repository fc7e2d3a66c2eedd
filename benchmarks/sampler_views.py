"""An experiment for bench_search.py: TPE shown the stopped (PRUNED) trials.

dsdnas's TPE never sees candidates stopped at a rung (nas/search/samplers.py). The
alternative is Optuna's plain TPE, which ranks every PRUNED trial after every COMPLETE
one: a stopped candidate lands in its "worse" group, steering it away from that region,
and counts towards its 10 random start-up trials. `shown_stopped()` makes the search use
that sampler for the duration of a `with` block, so the two can be measured side by side.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import optuna

from dsdnas.nas.search import study as study_module
from dsdnas.nas.search.samplers import TPE_OPTIONS, sampler_seed


@contextlib.contextmanager
def shown_stopped() -> Iterator[None]:
    original = study_module.make_sampler

    def make(name: str, seed: int, existing_trials: int, *, salt: int = 0) -> optuna.samplers.BaseSampler:
        return optuna.samplers.TPESampler(seed=sampler_seed(seed, existing_trials, salt), **TPE_OPTIONS)

    study_module.make_sampler = make
    try:
        yield
    finally:
        study_module.make_sampler = original
