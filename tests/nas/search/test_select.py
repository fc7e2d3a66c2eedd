"""Picking a model: --trial, --pick best/knee, --max-latency-ms, --max-macs, on known fronts."""

import optuna
import pytest

from dsdnas.errors import RunError
from dsdnas.nas.search.select import select_trial


def study_of(rows: list[tuple[float, int, float, str]]) -> optuna.Study:
    """A study whose trials have these (accuracy, MACs, latency ms, status)."""
    study = optuna.create_study(directions=["maximize", "minimize"])
    for accuracy, macs, latency, status in rows:
        trial = study.ask()
        for key, value in {"val_accuracy": accuracy, "macs": macs, "latency_ms": latency, "status": status}.items():
            trial.set_user_attr(key, value)
        study.tell(trial, [accuracy, macs])
    return study


FRONT = [
    (0.90, 10_000, 0.2, "trained"),  # 0: cheap
    (0.97, 100_000, 0.4, "trained"),  # 1: the knee: most of the accuracy for a tenth of the cost
    (0.975, 1_000_000, 0.9, "trained"),  # 2
    (0.98, 10_000_000, 3.0, "trained"),  # 3: best
    (0.95, 5_000_000, 0.3, "trained"),  # 4: dominated, but fast
    (0.0, 20_000, 0.1, "skipped"),  # 5: over a limit, never trained, never picked
    (0.98, 10_000_000, 3.0, "reused"),  # 6: trial 3's architecture again: never picked in its place
]


def test_best_is_the_most_accurate_trained_front_model():
    assert select_trial(study_of(FRONT), pick="best").number == 3
    assert select_trial(study_of(FRONT)).number == 3  # the default


def test_knee_is_where_more_macs_stop_buying_accuracy():
    assert select_trial(study_of(FRONT), pick="knee").number == 1


def test_a_latency_budget_takes_the_most_accurate_model_within_it_front_or_not():
    study = study_of(FRONT)
    assert select_trial(study, max_latency_ms=0.35).number == 4  # dominated on MACs, yet the best under 0.35 ms
    assert select_trial(study, max_latency_ms=1.0).number == 2
    assert select_trial(study, max_macs=200_000).number == 1
    assert select_trial(study, max_latency_ms=1.0, max_macs=200_000).number == 1


def test_equal_accuracy_within_a_budget_goes_to_fewer_macs():
    study = study_of([(0.9, 5_000, 0.5, "trained"), (0.9, 4_000, 0.6, "trained")])
    assert select_trial(study, max_latency_ms=1.0).number == 1


def test_nothing_within_the_budget_is_an_error():
    with pytest.raises(RunError, match="no trained model fits the budget"):
        select_trial(study_of(FRONT), max_latency_ms=0.05)


def test_a_trial_that_was_not_trained_cannot_be_chosen():
    with pytest.raises(RunError, match=r"trial 5 is not a trained trial.*trained: 0, 1, 2, 3, 4"):
        select_trial(study_of(FRONT), trial=5)
    with pytest.raises(RunError, match="trial 7 is not a trained trial"):
        select_trial(study_of(FRONT), trial=7)


def test_a_reused_trial_stands_for_the_trained_trial_it_copied():
    study = study_of(FRONT[:6])
    trial = study.ask()  # trial 6: trial 3's architecture sampled again
    for key, value in {"val_accuracy": 0.98, "macs": 10_000_000, "status": "reused", "reused_from": 3}.items():
        trial.set_user_attr(key, value)
    study.tell(trial, [0.98, 10_000_000])
    assert select_trial(study, trial=6).number == 3
    assert select_trial(study_of(FRONT), trial=4).number == 4


def test_unknown_pick_and_empty_study():
    with pytest.raises(RunError, match="--pick 'fastest'"):
        select_trial(study_of(FRONT), pick="fastest")
    with pytest.raises(RunError, match="no trained trial"):
        select_trial(study_of([(0.5, 10, 0.1, "skipped")]))


def test_a_latency_budget_is_judged_on_the_figure_timed_at_the_end_of_the_search():
    # The search timed trial 4 at 0.3 ms; the end, back to back with the others, at 0.5 ms: that is its figure.
    study = study_of(FRONT)
    timed = {4: {"latency_ms": 0.5}, 2: {"latency_ms": 0.33}}
    assert select_trial(study, max_latency_ms=0.35, timed=timed).number == 2
    assert select_trial(study, max_latency_ms=0.35, timed=timed).latency_ms == 0.33


def test_a_model_the_search_never_timed_fits_no_latency_budget_until_its_end_times_it():
    study = study_of([(0.9, 5_000, None, "trained"), (0.8, 4_000, 0.2, "trained")])  # the search was stopped early
    assert select_trial(study, max_latency_ms=1.0).number == 1
    with pytest.raises(RunError, match=r"1 trained models have no latency yet: run the search again to time them"):
        select_trial(study, max_latency_ms=0.1)
    assert select_trial(study, max_latency_ms=1.0, timed={0: {"latency_ms": 0.4}}).number == 0
