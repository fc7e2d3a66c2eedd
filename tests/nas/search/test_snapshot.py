"""The study as one read: what it serves, how often it reads, and that TPE samples through it as Optuna's does."""

import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState, create_trial

from dsdnas.nas.search.samplers import TPE_OPTIONS, TPEWithoutStopped
from dsdnas.nas.search.snapshot import Snapshot

SPACE = {"kernel": CategoricalDistribution([1, 3, 5, 7]), "width": CategoricalDistribution([4, 8, 16, 32])}


def _reads(study: optuna.Study, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the storage's reads of the study's trials (Optuna's storage, counted, not replaced)."""
    reads: list[int] = []
    read = study._storage.get_all_trials

    def counted(*args, **kwargs):
        reads.append(1)
        return read(*args, **kwargs)

    monkeypatch.setattr(study._storage, "get_all_trials", counted)
    return reads


def _constrained_study() -> optuna.Study:
    """Complete trials, one infeasible that would dominate the rest, a stopped one and a running one."""
    study = optuna.create_study(directions=["maximize", "minimize"])
    for number, (accuracy, macs, feasible) in enumerate(
        [(0.9, 100, True), (0.8, 50, True), (0.99, 10, False), (0.85, 80, True), (0.7, 60, True)]
    ):
        constraints = [-1.0] if feasible else [1.0]
        study.add_trial(
            create_trial(
                params={"kernel": 3, "width": [4, 8, 16, 32][number % 4]},
                distributions=SPACE,
                values=[accuracy, macs],
                system_attrs={"constraints": constraints},
            )
        )
    study.add_trial(create_trial(params={"kernel": 7, "width": 8}, distributions=SPACE, state=TrialState.PRUNED))
    study.ask(SPACE)
    return study


def test_a_snapshot_gives_optunas_front_with_its_constraints_honoured():
    study = _constrained_study()
    front = [t.number for t in Snapshot(study).best_trials]
    assert front == [t.number for t in study.best_trials] == [0, 1, 3]  # not 2: it breaks its constraint
    assert len(Snapshot(optuna.create_study(directions=["maximize", "minimize"])).best_trials) == 0


def test_a_snapshot_reads_the_study_once_and_serves_it_as_it_was(monkeypatch):
    study = _constrained_study()
    reads = _reads(study, monkeypatch)
    seen = Snapshot(study)
    assert [t.state for t in seen.get_trials(deepcopy=False, states=(TrialState.RUNNING,))] == [TrialState.RUNNING]
    assert len(seen.trials) == len(seen.get_trials()) == 7 and len(seen.best_trials) == 3
    assert sum(reads) == 1
    study.add_trial(create_trial(params={"kernel": 1, "width": 4}, distributions=SPACE, values=[1.0, 1]))
    assert len(seen.trials) == 7 and len(Snapshot(study).trials) == 8  # a later trial needs a new snapshot
    assert seen.study_name == study.study_name  # the rest is the study's


def test_a_snapshot_copies_what_it_is_asked_to_copy_and_shares_the_rest():
    study = _constrained_study()
    seen = Snapshot(study)
    assert seen.trials[0] is study.get_trials(deepcopy=False)[0]  # made without copying the study
    copied = seen.get_trials(deepcopy=True)
    copied[0].user_attrs["changed"] = True
    assert "changed" not in seen.trials[0].user_attrs
    assert seen.get_trials(deepcopy=False)[0] is seen.trials[0]
    assert seen.get_trials()[0] is not seen.trials[0] and seen._get_trials()[0] is not seen.trials[0]  # as Optuna


def _conditional(trial: optuna.Trial) -> tuple[float, float]:
    """Choices that only some candidates make: TPE samples those one at a time, each a read of the study."""
    depth = trial.suggest_categorical("depth", [1, 2, 3])
    kernels = [trial.suggest_categorical(f"kernel_{i}", [1, 3, 5, 7]) for i in range(depth)]
    width = trial.suggest_categorical("width", [4, 8, 16, 32])
    return sum(kernels) / (7 * depth) + depth / 10, width * depth


def _proposals(sampler: optuna.samplers.BaseSampler, trials: int) -> list[dict]:
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    study.optimize(_conditional, n_trials=trials)
    return [t.params for t in study.trials]


def test_tpe_samples_through_its_snapshot_what_optunas_tpe_samples():
    # No stopped trial: dsdnas's TPE sees what Optuna's sees, so the same seed proposes the same candidates.
    assert _proposals(TPEWithoutStopped(seed=4, **TPE_OPTIONS), 18) == _proposals(
        optuna.samplers.TPESampler(seed=4, **TPE_OPTIONS), 18
    )


def test_tpe_reads_the_study_once_a_trial_however_many_choices_it_samples(monkeypatch):
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=TPEWithoutStopped(seed=4, **TPE_OPTIONS))
    study.optimize(_conditional, n_trials=14)  # past the 10 start-up trials
    reads = _reads(study, monkeypatch)
    trial = study.ask()
    _conditional(trial)
    assert len(trial.params) >= 3
    # One read for the snapshot and one of Optuna's own for enqueued trials; before, one more for each choice.
    assert sum(reads) <= 2
    study.tell(trial, _conditional(trial))
    assert trial.number not in study.sampler._snapshots  # dropped when it ends
