"""Equal work for every setting a benchmark compares: the same candidates, and turns at going first.

Where the sampler is not what a benchmark measures (how many jobs, how many workers), each
setting must train the same architectures, or a setting that happened to draw smaller
candidates would look faster. `candidate_params` draws a list once, from a seeded random
sampler; `enqueued_study` creates a study holding that list, in order, which the search
then pops (a study without dsdnas's settings is adopted by the first `dsdnas search`).
`in_turns` orders a round's settings so that each goes first in turn, and a drift in the
machine's load does not always fall on the same one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import optuna

from dsdnas.search_spaces import get_space

Setting = TypeVar("Setting")


def candidate_params(space: str, count: int, seed: int, input_shape=(1, 28, 28), classes: int = 10) -> list[dict]:
    """`count` distinct architectures of `space`, as Optuna parameters, the same for the same seed."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    search_space = get_space(space)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    found: dict[str, dict] = {}
    for _ in range(100 * count):
        trial = study.ask()
        arch = search_space.sample(trial, input_shape, classes)
        found.setdefault(arch.hash, trial.params)
        if len(found) == count:
            return list(found.values())
    raise SystemExit(f"{space} has fewer than {count} distinct architectures")


def enqueued_study(storage: str, study_name: str, params: list[dict]) -> None:
    """A new study (accuracy up, MACs down: dsdnas's default objectives) that hands out `params` in order."""
    study = optuna.create_study(storage=storage, study_name=study_name, directions=["maximize", "minimize"])
    for choice in params:
        study.enqueue_trial(choice)


def in_turns(settings: Sequence[Setting], round_number: int) -> list[Setting]:
    """The settings in their order on even rounds, reversed on odd ones."""
    return list(settings) if round_number % 2 == 0 else list(reversed(settings))
