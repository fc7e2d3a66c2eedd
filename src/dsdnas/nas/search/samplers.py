"""The samplers by name, and what TPE is shown of candidates stopped at a rung.

A stopped candidate is a PRUNED trial with no objective values. Optuna's TPE would rank
every PRUNED trial after every COMPLETE one, counting it in its "worse" group and towards
its 10 random start-up trials. Shown only the complete trials it did better in
`benchmarks/bench_search.py` (final hypervolume 0.918 against 0.891, median of 5 seeds;
see the README's "Early stopping"), so dsdnas's TPE never sees the stopped ones. Telling
it the rung accuracy instead is no option with several objectives: TPE scores a pruned
trial's last intermediate value with `study.direction`, which a multi-objective study
does not have. NSGA-II breeds from complete trials only, and random sampling looks at none.
`tpe+mutate` (the default) is that TPE, with some trials handed a mutation of a front
member instead (`mutation.py`); `tpe+mutate+synflow` also picks its start-up's
candidates by a zero-cost score (`warm_start.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from dsdnas.errors import DsdnasError
from dsdnas.nas.search.mutation import propose
from dsdnas.nas.search.snapshot import Snapshot

SAMPLERS = ("tpe", "tpe+mutate", "tpe+mutate+synflow", "nsga2", "random")
# Samplers whose start-up candidates are picked (warm_start.py), not drawn at random: they need a `startup_pick`.
PICKED_STARTUP = ("tpe+mutate+synflow",)
# Multivariate TPE models the joint choices; constant_liar spreads parallel workers.
TPE_OPTIONS = {"multivariate": True, "n_startup_trials": 10, "constant_liar": True}
# The share of trials handed a mutation: a half at TPE's 10th complete trial, falling as 10 / complete (a quarter at
# the 20th, an eighth at the 40th). A constant half led early but its front stopped rising on Fashion-MNIST (a front
# member's one-choice neighbours run out of gains); the falling share ended higher on both datasets (benchmarks.md),
# on seeds 0-4; on seeds 5-9 below plain TPE on mnist-sample. A start-up of 5, not 10, ended lower on Fashion-MNIST.
MUTATE_SHARE = 0.5
# Called with the sampler's own random stream and the parameters of the candidates evaluated so far: those of
# the next start-up candidate (warm_start.py).
StartupPick = Callable[[np.random.RandomState, list[dict[str, Any]]], dict[str, Any]]


class WithoutStopped:
    """A study as a sampler sees it: every trial but the PRUNED (stopped) ones."""

    def __init__(self, study: optuna.Study) -> None:
        self._study = study

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)

    def _get_trials(self, deepcopy: bool = True, states: Any = None, use_cache: bool = False) -> list[FrozenTrial]:
        shown = tuple(state for state in (states or tuple(TrialState)) if state != TrialState.PRUNED)
        return self._study._get_trials(deepcopy=deepcopy, states=shown, use_cache=use_cache)

    def get_trials(self, deepcopy: bool = True, states: Any = None) -> list[FrozenTrial]:
        return self._get_trials(deepcopy=deepcopy, states=states)

    @property
    def trials(self) -> list[FrozenTrial]:
        return self.get_trials()


class TPEWithoutStopped(optuna.samplers.TPESampler):
    """Optuna's TPE, shown the study without its stopped candidates, as one read per trial.

    TPE reads the study for each choice it samples; here each of a trial's reads is served by the snapshot
    its first read made (`snapshot.py`), so a trial's choices cost one read, not one each. What another
    worker does in the milliseconds between a trial's first choice and its last is seen by the next trial."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._snapshots: dict[int, Snapshot] = {}  # by trial number, from its first read to its end

    def snapshot(self, study: optuna.Study, trial: FrozenTrial) -> Snapshot:
        """The study as `trial`'s sampling first read it: made at the first read, as late as Optuna reads."""
        if trial.number not in self._snapshots:
            self._snapshots[trial.number] = Snapshot(study)
        return self._snapshots[trial.number]

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, Any]:
        return super().infer_relative_search_space(WithoutStopped(self.snapshot(study, trial)), trial)

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, Any]) -> dict[str, Any]:
        return super().sample_relative(WithoutStopped(self.snapshot(study, trial)), trial, search_space)

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, name: str, distribution: Any) -> Any:
        return super().sample_independent(WithoutStopped(self.snapshot(study, trial)), trial, name, distribution)

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState, values: Any) -> None:
        self._snapshots.pop(trial.number, None)
        super().after_trial(study, trial, state, values)


class TPEWithMutations(TPEWithoutStopped):
    """TPE, and after its start-up a falling share of the trials (`share`) a front member with one choice
    changed (`mutation.py`). The front is the study's, so workers sharing it mutate the same members.

    `startup_pick`, given, picks each start-up candidate (`warm_start.py`) where TPE would draw at random.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        startup_pick: StartupPick | None = None,
        **options: Any,
    ) -> None:
        super().__init__(seed=seed, **options)
        self._mutation_rng = np.random.RandomState(seed)  # its own stream: TPE keeps self._rng
        self._proposals: dict[int, dict[str, Any]] = {}
        self._startup_pick = startup_pick
        # Its own stream too, so that picking the start-up leaves every later mutation's draws as they were.
        self._startup_rng = np.random.RandomState(
            None if seed is None else np.random.SeedSequence([seed, 1]).generate_state(1)
        )

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        super().before_trial(study, trial)
        if trial.params or trial.system_attrs.get("fixed_params"):
            return  # a retried or enqueued candidate: its choices are made already
        study = self.snapshot(study, trial)
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
        complete = [t for t in done if t.state == TrialState.COMPLETE]
        evaluated = [t.params for t in done if t.params]  # a failed or unsampled trial says nothing
        if len(complete) < self._n_startup_trials:
            if self._startup_pick is not None:
                self._proposals[trial.number] = self._startup_pick(self._startup_rng, evaluated)
            return
        if self._mutation_rng.rand() >= self.share(len(complete)):
            return
        trained = [t for t in study.best_trials if t.user_attrs.get("status") == "trained"]
        front = [(t.number, t.params, t.distributions) for t in trained]
        proposal = propose(front, evaluated, self._mutation_rng)
        if proposal is not None:
            parent, changed, self._proposals[trial.number] = proposal
            # The Trial's own view of itself, which the objective stores with its first record (one commit).
            trial.user_attrs.update(mutation_of=parent, mutated=changed)

    def share(self, complete: int) -> float:
        """The chance that a trial after start-up is a mutation, with `complete` (at least 10) trials finished."""
        return MUTATE_SHARE * TPE_OPTIONS["n_startup_trials"] / complete

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, Any]) -> dict[str, Any]:
        if trial.number in self._proposals:
            return {}  # every choice of a mutation or a start-up pick comes through sample_independent
        return super().sample_relative(study, trial, search_space)

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, name: str, distribution: Any) -> Any:
        proposal = self._proposals.get(trial.number, {})
        if name in proposal:  # every choice of a space is categorical, and the study keeps its space
            return proposal[name]
        return super().sample_independent(study, trial, name, distribution)  # a choice the parent never made

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState, values: Any) -> None:
        self._proposals.pop(trial.number, None)
        super().after_trial(study, trial, state, values)


def check_sampler(name: str) -> str:
    if name not in SAMPLERS:
        raise DsdnasError(f"--sampler {name!r} is not one of {', '.join(SAMPLERS)}")
    return name


def sampler_seed(seed: int, existing_trials: int, salt: int = 0) -> int:
    """The sampler's seed: it moves on with the study; `salt` (a worker's pid) gives each worker its own stream.

    Salted seeds are mixed, not added: two `--jobs` workers have neighbouring pids, and one
    that opened the study a trial later would otherwise draw the other's stream (seen in CI:
    three of five trials reused the other worker's candidates).
    """
    if not salt:
        return (seed + existing_trials) % 2**32
    return int(np.random.SeedSequence([seed, existing_trials, salt]).generate_state(1)[0])


def make_sampler(
    name: str,
    seed: int,
    existing_trials: int,
    *,
    salt: int = 0,
    startup_pick: StartupPick | None = None,
) -> optuna.samplers.BaseSampler:
    """Seeded sampler; the seed moves on with the study so a resumed run draws anew.

    `salt` separates workers that share one storage and start together; `startup_pick`
    picks the start-up candidates of a sampler in `PICKED_STARTUP` (`warm_start.py`).
    """
    seed = sampler_seed(seed, existing_trials, salt)
    if check_sampler(name) == "tpe":
        return TPEWithoutStopped(seed=seed, **TPE_OPTIONS)
    if name in ("tpe+mutate", *PICKED_STARTUP):
        if (name in PICKED_STARTUP) != (startup_pick is not None):
            raise ValueError(f"--sampler {name} takes a start-up pick exactly when it picks its start-up")
        return TPEWithMutations(seed=seed, startup_pick=startup_pick, **TPE_OPTIONS)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=20)
    return optuna.samplers.RandomSampler(seed=seed)
