"""The front's hypervolume on axes a reader can state: the share of the unit square (or cube) it dominates.

    accuracy axis: 1 - validation accuracy, in [0, 1]
    each cost:     log10 of the cost, scaled to [0, 1] between the cheapest and the dearest
                   finished trial of the run
    reference:     (1, 1, ...): the worst accuracy at the dearest cost

So 0 is no front at all and 1 a perfect model at the cheapest cost; two runs on the same
data compare when their cost ranges agree. The volume itself is Optuna's
(`optuna._hypervolume.compute_hypervolume`), recomputed after each finished trial.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from optuna._hypervolume import compute_hypervolume  # Optuna's own hypervolume

from dsdnas.nas.search.records import TrialRecord


def _scale(value: float, low: float, high: float) -> float:
    if high <= low:
        return 0.0
    return (math.log10(max(value, 1e-12)) - math.log10(low)) / (math.log10(high) - math.log10(low))


def hypervolume_history(objectives: list[str], finished: list[TrialRecord]) -> dict[str, Any]:
    """The normalised hypervolume after each finished trial (by trial number), with the axes' ranges."""
    if not finished:
        return {"trials": [], "values": [], "ranges": {}, "final": 0.0}
    ordered = sorted(finished, key=lambda record: record.number)
    costs = range(1, len(objectives))
    ranges = {objectives[i]: (min(r.values[i] for r in ordered), max(r.values[i] for r in ordered)) for i in costs}
    points, values = [], []
    for record in ordered:
        points.append([1.0 - record.values[0], *(_scale(record.values[i], *ranges[objectives[i]]) for i in costs)])
        reference = np.ones(len(objectives))
        values.append(float(compute_hypervolume(np.array(points), reference)))
    return {"trials": [r.number for r in ordered], "values": values, "ranges": ranges, "final": values[-1]}


def _short(value: float) -> str:
    """3548 -> '3.55k', 6688000 -> '6.69M'."""
    for threshold, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= threshold:
            return f"{value / threshold:.3g}{suffix}"
    return f"{value:.3g}"


def axes_sentence(history: dict[str, Any]) -> str:
    """How the hypervolume was measured, in one sentence for the report."""
    spans = ", ".join(
        f"log10 {name} from {_short(low)} to {_short(high)}" for name, (low, high) in history["ranges"].items()
    )
    return (
        f"Hypervolume {history['final']:.3f} of 1: the share of the square that the front dominates, with "
        f"1 - validation accuracy on one axis and {spans} scaled to [0, 1] on the other(s) (the cheapest and "
        f"dearest finished trials), reference point 1 on every axis. Computed by Optuna after each finished trial."
    )
