"""The rung decision: Pareto ranks, crowding, and a newcomer that dominates everything always goes on."""

import numpy as np
import optuna
import pytest

from dsdnas.errors import DsdnasError
from dsdnas.nas.search.records import TrialRecord
from dsdnas.nas.search.rungs import (
    Rungs,
    crowding_distances,
    goes_on,
    judge,
    rung_epochs,
    rung_steps,
    schedule,
    survivors,
)


@pytest.mark.parametrize(
    ("epochs", "rungs"), [(1, []), (2, []), (3, [1]), (5, [1]), (9, [1, 3]), (10, [1, 3]), (27, [1, 3, 9])]
)
def test_rung_schedule(epochs, rungs):
    assert rung_epochs(epochs) == rungs


@pytest.mark.parametrize(
    ("total", "rungs"), [(7, []), (21, [7]), (45, [5, 15]), (186, [20, 62]), (558, [62, 186]), (14, [])]
)
def test_rungs_fall_at_a_ninth_and_a_third_of_the_steps_at_least_five_steps_in(total, rungs):
    assert rung_steps(total) == rungs


def test_the_early_stop_modes_place_their_rungs_and_name_them_in_epochs():
    on = schedule("on", 3, 62)
    assert on.steps == (20, 62) and [on.key(step) for step in on.steps] == ["0.3226", "1"]
    assert on.epochs(20) == 0.3226 and on.epochs(62) == 1.0
    by_epochs = schedule("epochs", 9, 10)
    assert by_epochs == Rungs((10, 30), 10, "val_accuracy") and by_epochs.key(30) == "3"
    once = schedule("once", 3, 62)  # the first rung alone, keeping the top half
    assert once == Rungs((20,), 62, "train_loss", eta=2) and once.key(20) == "0.3226"
    assert schedule("once", 1, 20) == Rungs((6,), 20, "train_loss", eta=2)  # 20 // 9 = 2 steps: too few, so 20 // 3
    assert schedule("off", 9, 10) is None and schedule("on", 1, 7) is None and schedule("once", 1, 7) is None
    with pytest.raises(DsdnasError, match="--early-stop 'maybe' must be one of on, once, epochs, off"):
        schedule("maybe", 3, 10)


def test_a_loss_signal_ranks_the_lowest_first():
    study = optuna.create_study(directions=["maximize", "minimize"])
    for loss in (0.5, 0.6, 0.7, 0.8, 0.9):
        trial = study.ask()
        trial.set_user_attr("macs", 1e6)
        trial.set_user_attr("rung_train_losses", {"0.3333": loss})
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    same_cost = TrialRecord(number=99, macs=1e6)
    judged = {"rung": "0.3333", "objectives": ("accuracy", "macs"), "signal": "train_loss"}
    assert goes_on(study, same_cost, value=0.4, **judged)  # the lowest loss at its rung
    assert not goes_on(study, same_cost, value=0.85, **judged)
    assert not goes_on(study, same_cost, value=0.65, **judged)  # third of 6: the top 1/3 is 2
    assert goes_on(study, same_cost, value=0.65, **judged, eta=2)  # the top half is 3 (--early-stop once)
    assert judge(study, same_cost, value=0.4, **{**judged, "rung": "1"}) == (True, 1)  # nobody else reached it


def losses(points: list[tuple[float, float]]) -> np.ndarray:
    """(accuracy, MACs) as losses: lower is better in both."""
    return np.array([[-accuracy, macs] for accuracy, macs in points], dtype=float)


def test_a_newcomer_that_dominates_everything_always_goes_on():
    rng = np.random.default_rng(0)
    for _ in range(200):
        recorded = [(rng.uniform(0.5, 0.9), rng.uniform(1e5, 1e7)) for _ in range(rng.integers(2, 40))]
        best = (max(a for a, _ in recorded) + 0.01, min(m for _, m in recorded) - 1)
        assert 0 in survivors(losses([best, *recorded]))


def test_a_cheap_candidate_alone_in_its_cost_range_goes_on_despite_low_accuracy():
    population = [(0.50, 1e4), (0.95, 5e6), (0.94, 6e6), (0.93, 7e6), (0.92, 8e6), (0.91, 9e6)]
    keep = survivors(losses(population))
    assert 0 in keep and 1 in keep and len(keep) == 2  # ceil(6 / 3): the two ends of the front


def test_the_top_third_by_front_then_crowding():
    population = [(0.9, 1e6), (0.8, 1e6), (0.7, 1e6), (0.6, 1e6), (0.5, 1e6), (0.4, 1e6)]
    assert survivors(losses(population)) == {0, 1}  # all the same cost: accuracy decides, by fronts


def test_fewer_than_eta_candidates_stop_nobody():
    assert survivors(losses([(0.1, 1e7), (0.9, 1e3)])) == {0, 1}


def test_crowding_distance_is_infinite_at_the_ends():
    distance = crowding_distances(losses([(0.9, 3.0), (0.8, 2.0), (0.5, 1.0)]))
    assert np.isinf(distance[0]) and np.isinf(distance[2]) and np.isfinite(distance[1])


def test_goes_on_judges_against_every_trial_that_reached_the_rung():
    study = optuna.create_study(directions=["maximize", "minimize"])
    for index, (accuracy, macs) in enumerate([(0.90, 2e6), (0.85, 3e6), (0.60, 4e6), (0.55, 5e6), (0.50, 6e6)]):
        trial = study.ask()
        trial.set_user_attr("macs", macs)
        trial.set_user_attr("rung_accuracies", {"1": accuracy})
        study.tell(trial, state=optuna.trial.TrialState.PRUNED if index > 1 else optuna.trial.TrialState.FAIL)
    newcomer = TrialRecord(number=99, macs=5.5e6)
    assert not goes_on(
        study, newcomer, rung="1", value=0.58, objectives=("accuracy", "macs"), signal="val_accuracy"
    )  # dominated, crowded out
    assert goes_on(
        study, newcomer, rung="1", value=0.95, objectives=("accuracy", "macs"), signal="val_accuracy"
    )  # the most accurate at its rung
    assert goes_on(
        study,
        TrialRecord(number=98, macs=1e5),
        rung="1",
        value=0.3,
        objectives=("accuracy", "macs"),
        signal="val_accuracy",
    )  # the cheapest


def test_crowding_distance_sums_each_objectives_normalised_gap():
    # Losses (lower is better) of one front. By hand: point 1 gets (4-1)/6 + (12-7)/10 = 1.0,
    # point 2 gets (7-2)/6 + (8-2)/10 = 1.4333.
    distance = crowding_distances(np.array([[1, 12], [2, 8], [4, 7], [7, 2]], dtype=float))  # spans 6 and 10
    assert np.isinf(distance[[0, 3]]).all()
    assert distance[1] == pytest.approx(1.0) and distance[2] == pytest.approx(5 / 6 + 0.6)
    flat = crowding_distances(np.array([[1, 0], [1, 1], [1, 2]], dtype=float))  # no spread in accuracy
    assert flat[1] == pytest.approx(1.0)  # 0 from the flat objective, (2-0)/2 from the other
    for small in (1, 2):
        assert crowding_distances(np.zeros((small, 2))).tolist() == [np.inf] * small


DOMINATED = [[7, 11], [8, 12], [9, 13]]  # behind every point of the first front


def test_within_the_first_front_the_ends_then_the_sparsest_go_on():
    first = [[0, 10], [1, 6], [3, 5], [6, 0]]
    assert survivors(np.array(first + DOMINATED, dtype=float)) == {0, 3, 2}  # ceil(7 / 3): 2 has more room
    even = [[0, 3], [1, 2], [2, 1], [3, 0]]  # 1 and 2 equally crowded: the more accurate one goes on
    assert survivors(np.array(even + DOMINATED, dtype=float)) == {0, 3, 1}


def test_exactly_eta_candidates_keep_one():
    assert survivors(losses([(0.9, 1e6), (0.8, 2e6), (0.7, 3e6)])) == {0}


def test_a_rung_population_counts_each_candidate_once_and_only_candidates_with_costs():
    study = optuna.create_study(directions=["maximize", "minimize"])
    entries = [  # (rung accuracy, MACs, status): who reached rung 1, and what counts
        (0.90, 2e6, "stopped"),
        (0.85, 3e6, "stopped"),
        (0.80, 3e6, "reused"),  # a copy of a trial already there: not counted again
        (0.85, 3e6, "stopped copy"),  # a copy of a stopped one (status stopped): not counted either
        (0.70, None, "stopped"),  # no costs recorded: cannot be placed
        (None, 4e6, "trained"),  # never reached rung 1 (recorded at another)
    ]
    for accuracy, macs, status in entries:
        trial = study.ask()
        trial.set_user_attr("status", status.replace(" copy", ""))
        if status in ("reused", "stopped copy"):
            trial.set_user_attr("reused_from", 1)
        if macs is not None:
            trial.set_user_attr("macs", macs)
        trial.set_user_attr("rung_accuracies", {"1": accuracy} if accuracy is not None else {"3": 0.9})
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    itself = TrialRecord(number=0, macs=2e6)  # trial 0 judged again (a second look): not counted twice
    verdict, population = judge(
        study, itself, rung="1", value=0.9, objectives=("accuracy", "macs"), signal="val_accuracy"
    )
    assert population == 2 and verdict  # trial 0 and trial 1
    newcomer = TrialRecord(number=9, macs=9e6)
    assert judge(study, newcomer, rung="1", value=0.5, objectives=("accuracy", "macs"), signal="val_accuracy") == (
        False,
        3,
    )


def test_crowding_is_measured_within_each_front_not_across_them():
    # Four fronts; found by comparing with crowding taken over the other fronts' points instead.
    points = [[8, 8], [0, 0], [2, 0], [13, 10], [12, 5], [12, 15], [7, 9], [19, 16]]
    assert survivors(np.array(points, dtype=float)) == {1, 2, 6}
