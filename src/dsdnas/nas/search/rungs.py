"""Pareto-aware early stopping: at each rung, only the top 1/eta of the candidates by
non-dominated sorting train on.

By default (`--early-stop once`) a candidate is judged once, after 1/9 of its optimizer
steps, and the top half goes on: 3 epochs of 56 steps (mnist-sample) give a rung at 18
steps, a third of an epoch. `--early-stop on` judges after 1/eta^2 and 1/eta of the steps
(eta = 3; 18 and 56 steps) and keeps the top third at each. A rung needs at least
MIN_RUNG_STEPS steps. The schedule of the full run is never changed: a candidate that
passes every rung ends bit for bit where it would have without stopping (`stages.py`).
`--early-stop epochs`, the rule before rungs in steps, judges after E/9 and E/3 whole
epochs, on validation accuracy.

At a rung a candidate's signal (DEFAULT_SIGNAL: the mean training loss so far, Ru et
al.'s TSE, which ranked candidates best in benchmarks/bench_rank.py), with its fixed
costs (the search's cost objectives), is compared with every candidate that reached that
rung, whichever worker trained it. The candidates are ranked by Optuna's fast
non-dominated sort, and within a front by crowding distance (NSGA-II's tie-break: the
ends of a front and its sparse stretches first). A candidate goes on when it is among
the first ceil(n / eta); until eta candidates have reached a rung, the rung stops
nobody. Costs do not change with training, so a candidate alone in its cost range is on
the first front, at its end, and goes on; one that dominates everything at its rung is
the whole first front.

Unlike Syne Tune's MO-ASHA, which mixes an ordering up with ranks, the position used here
is the candidate's place in that sorted order, so a newcomer that dominates every
recorded candidate is never stopped (a unit test holds this).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.study._multi_objective import _fast_non_domination_rank  # Optuna's own non-dominated sort

from dsdnas.errors import DsdnasError
from dsdnas.nas.search.records import OBJECTIVE_DIRECTIONS, OBJECTIVE_FIELDS, TrialRecord, records

ETA = 3  # reduction factor: a rung keeps the top third
ONCE_ETA = 2  # --early-stop once: one rung, at 1/9 of the steps, keeps the top half
MIN_RUNG_STEPS = 5  # fewer optimizer steps than this judge nothing: a 1-epoch run on 480 images has 7


@dataclass(frozen=True)
class Signal:
    """What a rung ranks candidates by: the record field holding it per rung, and its direction."""

    field: str
    higher_is_better: bool
    words: str  # how a stop reason names it


SIGNALS = {
    "val_accuracy": Signal("rung_accuracies", True, "validation accuracy"),
    "val_loss": Signal("rung_val_losses", False, "validation loss"),
    "train_loss": Signal("rung_train_losses", False, "mean training loss so far"),
}
DEFAULT_SIGNAL = "train_loss"  # ranks best at the first rung: benchmarks/bench_rank.py, docs/benchmarks.md
# Rungs in steps on DEFAULT_SIGNAL; one rung in steps keeping half; whole epochs on accuracy; none.
EARLY_STOP = ("on", "once", "epochs", "off")
# What a study's settings record of each: the rule, so one started under another is never continued under it.
RULES = {"on": "steps", "once": "steps-once", "epochs": "epochs", "off": "off"}


def rung_epochs(epochs: int, eta: int = ETA) -> list[int]:
    """The epochs after which `--early-stop epochs` judges a candidate, ascending: E/eta^k for k >= 1, at least 1."""
    rungs, k = [], 1
    while (rung := epochs // eta**k) >= 1:
        if rung < epochs and rung not in rungs:
            rungs.append(rung)
        k += 1
    return sorted(rungs)


def rung_steps(total_steps: int, eta: int = ETA, min_steps: int = MIN_RUNG_STEPS) -> list[int]:
    """The optimizer steps after which a candidate is judged, ascending: total/eta^2 and total/eta."""
    return sorted({rung for k in (1, 2) if min_steps <= (rung := total_steps // eta**k) < total_steps})


@dataclass(frozen=True)
class Rungs:
    """Where a search judges its candidates (in optimizer steps) and on what."""

    steps: tuple[int, ...]
    steps_per_epoch: int
    signal: str = DEFAULT_SIGNAL
    eta: int = ETA  # the top 1/eta of a rung's candidates go on

    def epochs(self, step: int) -> float:
        """A step count in epochs, as the record, trials.csv and the report show it: 0.3226, 1."""
        return float(f"{step / self.steps_per_epoch:.4g}")

    def key(self, step: int) -> str:
        """The rung's name in a record's per-rung fields: its epochs, "0.3226" or "1"."""
        return f"{self.epochs(step):g}"


def schedule(mode: str, epochs: int, steps_per_epoch: int) -> Rungs | None:
    """The rungs of `--early-stop MODE` for `epochs` of `steps_per_epoch` steps; None when nothing is judged."""
    if mode not in EARLY_STOP:
        raise DsdnasError(f"--early-stop {mode!r} must be one of {', '.join(EARLY_STOP)}")
    if mode == "epochs":
        rungs = Rungs(tuple(e * steps_per_epoch for e in rung_epochs(epochs)), steps_per_epoch, "val_accuracy")
    elif mode == "once":  # the first of the two rungs alone, a wider gate: more candidates trained to the end
        rungs = Rungs(tuple(rung_steps(epochs * steps_per_epoch)[:1]), steps_per_epoch, eta=ONCE_ETA)
    else:
        rungs = Rungs(tuple(rung_steps(epochs * steps_per_epoch)) if mode == "on" else (), steps_per_epoch)
    return rungs if rungs.steps else None


def loss_vector(value: float, record: TrialRecord, *, signal: str, objectives: tuple[str, ...]) -> list[float]:
    """Lower is better in every coordinate: the signal at the rung, then the cost objectives."""
    values = [-value if SIGNALS[signal].higher_is_better else value]
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
    study: optuna.Study,
    record: TrialRecord,
    *,
    rung: str,
    value: float,
    objectives: tuple[str, ...],
    signal: str = DEFAULT_SIGNAL,
    eta: int = ETA,
) -> tuple[bool, int]:
    """Whether `record`'s candidate trains past `rung` (a `Rungs.key`), its `signal` there being `value`,
    judged against every candidate at that rung; and how many candidates (itself included) it was judged among."""
    population = [(record.number, loss_vector(value, record, signal=signal, objectives=objectives))]
    for other in records(study):
        reached = getattr(other, SIGNALS[signal].field).get(rung)
        copy = other.reused_from is not None  # the trial it copied (trained or stopped) is already in it
        if other.number != record.number and reached is not None and other.macs is not None and not copy:
            population.append((other.number, loss_vector(reached, other, signal=signal, objectives=objectives)))
    keep = survivors(np.array([loss for _, loss in population], dtype=float), eta)
    return 0 in keep, len(population)


def goes_on(study: optuna.Study, record: TrialRecord, **judged: Any) -> bool:
    """`judge`'s verdict alone."""
    return judge(study, record, **judged)[0]
