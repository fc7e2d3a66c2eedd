"""The same candidates for every setting a benchmark compares: a seeded list, enqueued in a fresh study.

Where the sampler is not what a benchmark measures (how many jobs, how many workers), each
setting must train the same architectures, or a setting that happened to draw smaller
candidates would look faster. `candidate_params` draws a list once, from a seeded random
sampler; `enqueued_study` creates a study holding that list, in order, which the search
then pops (a study without dsdnas's settings is adopted by the first `dsdnas search`).
"""

from __future__ import annotations

import optuna

from dsdnas.search_spaces import get_space


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
