"""Pick one trained model from a study: by number, the best, the knee, or within a budget.

Pure functions over trial records; the Pareto front comes from `results`.
"""

from __future__ import annotations

from typing import Any

import optuna
from optuna.trial import TrialState

from dsdnas.errors import RunError
from dsdnas.nas.search.end_latency import with_end_latency
from dsdnas.nas.search.picks import PICKS, best, knee
from dsdnas.nas.search.records import Status, TrialRecord, records
from dsdnas.nas.search.results import pareto_trials


def trained_trials(study: optuna.Study) -> list[TrialRecord]:
    return [record for record in records(study, (TrialState.COMPLETE,)) if record.trained]


def within_budget(trained: list[TrialRecord], max_latency_ms: float | None, max_macs: float | None) -> TrialRecord:
    """The most accurate trained model at or under the latency and MACs given (fewer MACs break ties).

    A model with no latency yet (its search was stopped before the end timed it) fits no latency budget."""
    within = [
        t
        for t in trained
        if (max_latency_ms is None or (t.latency_ms is not None and t.latency_ms <= max_latency_ms))
        and (max_macs is None or t.macs <= max_macs)
    ]
    if not within:
        untimed = sum(t.latency_ms is None for t in trained) if max_latency_ms is not None else 0
        hint = f"; {untimed} trained models have no latency yet: run the search again to time them" if untimed else ""
        raise RunError(f"no trained model fits the budget: raise --max-latency-ms / --max-macs{hint}")
    return max(within, key=lambda t: (t.val_accuracy, -t.macs))


def _by_number(study: optuna.Study, trained: list[TrialRecord], number: int) -> TrialRecord:
    """Trial `number`; a reused trial stands for the trained trial whose result it copied."""
    by_number = {record.number: record for record in trained}
    for record in records(study, (TrialState.COMPLETE,)):
        if record.number == number and record.status is Status.REUSED and record.reused_from in by_number:
            number = record.reused_from
    if number in by_number:
        return by_number[number]
    numbers = ", ".join(str(t.number) for t in trained[:20])
    raise RunError(f"trial {number} is not a trained trial of {study.study_name!r}; trained: {numbers}")


def select_trial(
    study: optuna.Study,
    *,
    trial: int | None = None,
    pick: str | None = None,
    max_latency_ms: float | None = None,
    max_macs: float | None = None,
    timed: dict[int, dict[str, Any]] | None = None,
) -> TrialRecord:
    """One trained trial; the default is `best`, the most accurate Pareto model. `timed`: the run's end
    latencies (`end_latency.end_latencies`), which a latency budget is judged on."""
    trained = [with_end_latency(record, timed or {}) for record in trained_trials(study)]
    if not trained:
        raise RunError(f"study {study.study_name!r} has no trained trial yet; run dsdnas search first")
    if trial is not None:
        return _by_number(study, trained, trial)
    if max_latency_ms is not None or max_macs is not None:
        return within_budget(trained, max_latency_ms, max_macs)
    front = pareto_trials(study)
    pick = pick or "best"
    if pick == "best":
        return best(front)
    if pick == "knee":
        return knee(front)
    raise RunError(f"--pick {pick!r} must be one of {', '.join(PICKS)}")
