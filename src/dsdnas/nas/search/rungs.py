"""Pareto-aware early stopping: at each rung, only the top 1/eta of the candidates by
non-dominated sorting train on.

With `--epochs E` and eta = 3, a candidate is judged after E/9 and E/3 epochs, rounded
down, when those are at least 1 and below E: 9 epochs give rungs at 1 and 3, 3 epochs a
rung at 1, 1 epoch none. At a rung its validation accuracy, with its fixed costs (the
search's cost objectives), is compared with every candidate that reached that rung,
whichever worker trained it. The candidates are ranked by Optuna's fast non-dominated
sort, and within a front by crowding distance (NSGA-II's tie-break: the ends of a front
and its sparse stretches first). A candidate goes on when it is among the first
ceil(n / eta); until eta candidates have reached a rung, the rung stops nobody. Costs do
not change with epochs, so a candidate alone in its cost range is on the first front, at
its end, and goes on; one that dominates everything at its rung is the whole first front.

Unlike Syne Tune's MO-ASHA, which mixes an ordering up with ranks, the position used here
is the candidate's place in that sorted order, so a newcomer that dominates every
recorded candidate is never stopped (a unit test holds this).
"""

from __future__ import annotations

import math

import numpy as np
import optuna
from optuna.study._multi_objective import _fast_non_domination_rank  # Optuna's own non-dominated sort

from dsdnas.nas.search.records import OBJECTIVE_DIRECTIONS, OBJECTIVE_FIELDS, Status, TrialRecord, records

ETA = 3  # reduction factor: a rung keeps the top third


def rung_epochs(epochs: int, eta: int = ETA) -> list[int]:
    """The epochs after which a candidate is judged, ascending: E/eta^k for k >= 1, at least 1."""
    rungs, k = [], 1
    while (rung := epochs // eta**k) >= 1:
        if rung < epochs and rung not in rungs:
            rungs.append(rung)
        k += 1
    return sorted(rungs)


def loss_vector(accuracy: float, record: TrialRecord, objectives: tuple[str, ...]) -> list[float]:
    """Lower is better in every coordinate: -accuracy at the rung, then the cost objectives."""
    values = [-accuracy]
    for name in objectives[1:]:
        value = float(getattr(record, OBJECTIVE_FIELDS[name]))
        values.append(value if OBJECTIVE_DIRECTIONS[name] == "minimize" else -value)
    return values


def crowding_distances(losses: np.ndarray) -> np.ndarray:
    """NSGA-II's crowding distance of each point within its front: infinite at the ends."""
    count, objectives = losses.shape
    distance = np.zeros(count)
    if count <= 2:
        return np.full(count, np.inf)
    for column in range(objectives):
        order = np.argsort(losses[:, column], kind="stable")
        values = losses[order, column]
        span = values[-1] - values[0] or 1.0
        distance[order[0]] = distance[order[-1]] = np.inf
        distance[order[1:-1]] += (values[2:] - values[:-2]) / span
    return distance


def survivors(losses: np.ndarray, eta: int = ETA) -> set[int]:
    """Indices of the first ceil(n / eta) points by non-domination rank, then crowding distance."""
    count = len(losses)
    if count < eta:
        return set(range(count))
    ranks = _fast_non_domination_rank(losses)
    crowding = np.zeros(count)
    for rank in np.unique(ranks):
        members = np.flatnonzero(ranks == rank)
        crowding[members] = crowding_distances(losses[members])
    order = sorted(range(count), key=lambda i: (ranks[i], -crowding[i], losses[i][0], i))
    return set(order[: math.ceil(count / eta)])


def judge(
    study: optuna.Study, record: TrialRecord, *, epoch: int, accuracy: float, objectives: tuple[str, ...]
) -> tuple[bool, int]:
    """Whether `record`'s candidate trains past rung `epoch`, judged against every candidate at that rung;
    and how many candidates (itself included) it was judged among."""
    population = [(record.number, loss_vector(accuracy, record, objectives))]
    for other in records(study):
        reached = other.rung_accuracies.get(str(epoch))
        copy = other.status is Status.REUSED  # the trial it copied is already in the population
        if other.number != record.number and reached is not None and other.macs is not None and not copy:
            population.append((other.number, loss_vector(reached, other, objectives)))
    keep = survivors(np.array([loss for _, loss in population], dtype=float))
    return 0 in keep, len(population)


def goes_on(
    study: optuna.Study, record: TrialRecord, *, epoch: int, accuracy: float, objectives: tuple[str, ...]
) -> bool:
    return judge(study, record, epoch=epoch, accuracy=accuracy, objectives=objectives)[0]
