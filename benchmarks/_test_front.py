"""A search's front scored on the test split, so that searches validating on different splits compare.

The hypervolume on validation accuracy scores a search on the split it chose by: with
another `--val-fraction` it is another split (and another training set), and the front's
members are partly chosen for their luck on that split. Here the front
is still chosen on validation accuracy and MACs, as the search chooses it, but each member
counts with its test accuracy: what final evaluation will give the user. The test split
is read only here, after the search, never by it.
"""

from __future__ import annotations

import math

import numpy as np
import optuna
from optuna._hypervolume import compute_hypervolume  # Optuna's own hypervolume
from optuna.study._multi_objective import _fast_non_domination_rank  # Optuna's own non-dominated sort

from dsdnas.api._prepare import prepare
from dsdnas.api._runs import load_dataset_cached
from dsdnas.nas.datasets.device_data import DeviceSplit
from dsdnas.nas.files import load_weights
from dsdnas.nas.model.arch import Arch
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.runs.rundir import WEIGHTS_FILE
from dsdnas.nas.search.records import records
from dsdnas.nas.training.trainer import evaluate


def accuracies_on_test(run: dict) -> dict[int, float]:
    """Each trained candidate's accuracy on the test split, by trial number, from its saved weights."""
    config = run["config"]
    prepared = prepare(config)  # the run's own normalization (its training split's mean and std)
    full = load_dataset_cached(
        config.dataset, data_dir=config.data_dir, image_size=config.image_size, color=config.color
    )
    test = DeviceSplit(full.x_test.to(prepared.data.device), full.y_test.to(prepared.data.device))
    scores = {}
    for record in (r for r in records(run["study"]) if r.trained):
        model = build_model(Arch.from_dict(record.arch))
        weights = prepared.run_dir.trial_dir(record.number) / WEIGHTS_FILE
        model.load_state_dict(load_weights(weights, record.weights_sha256))
        scores[record.number] = evaluate(model.to(prepared.data.device), prepared.data, test)[1]
    return scores


def normalized(accuracy: float, macs: float, low: float, high: float) -> list[float]:
    """bench_search's hypervolume scale: 1 - accuracy, and log MACs over the space's range [low, high]."""
    return [1.0 - accuracy, math.log10(macs / low) / math.log10(high / low)]


def front_on_test(chosen: list[tuple[float, float, float]], low: float, high: float) -> float:
    """Hypervolume of the validation front's members at their test accuracy.

    `chosen` holds (validation accuracy, MACs, test accuracy) per trained candidate; the
    scale is `normalized`'s, the reference point (1, 1).
    """
    by_validation = np.array([[1.0 - val, macs] for val, macs, _ in chosen])
    front = _fast_non_domination_rank(by_validation) == 0
    members = (entry for entry, on_front in zip(chosen, front, strict=True) if on_front)
    points = [normalized(test, macs, low, high) for _, macs, test in members]
    return float(compute_hypervolume(np.array(points), np.array([1.0, 1.0])))


def curve_on_test(
    study: optuna.Study, tests: dict[int, float], low: float, high: float, started: float
) -> list[tuple[float, float]]:
    """(seconds since the search began, front_on_test of the trained candidates so far) after each trained one.

    Unlike the validation hypervolume it can fall: a newcomer may push off the validation
    front a member that scored better on test.
    """
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    trained = sorted((r for r in records(study) if r.trained), key=lambda r: trials[r.number].datetime_complete)
    points, chosen = [], []
    for record in trained:
        chosen.append((record.val_accuracy, record.macs, tests[record.number]))
        seconds = trials[record.number].datetime_complete.timestamp() - started
        points.append((seconds, front_on_test(chosen, low, high)))
    return points
