"""Tables of a study's trials, its Pareto front, and the files that hold them.

The Pareto front comes from Optuna (`study.best_trials`, which honours constraints);
a reused duplicate is left out in favour of the trial that trained its architecture.
"""

from __future__ import annotations

from typing import Any

import optuna
import pandas as pd
from optuna.trial import TrialState

from dsdnas.nas.files import write_json, write_text
from dsdnas.nas.runs.rundir import RunDir
from dsdnas.nas.search.end_latency import end_latencies, latency_when, with_end_latency
from dsdnas.nas.search.picks import front_picks
from dsdnas.nas.search.records import TrialRecord, objective_names, records

COLUMNS = [
    "trial",
    "state",
    "status",
    "accuracy",
    "accuracy_low",
    "accuracy_high",
    "val_size",
    "macs",
    "params",
    "latency_ms",
    "latency_p10_ms",
    "latency_p90_ms",
    "latency_noisy",
    "latency_source",
    "latency_threads",
    "latency_when",
    "pareto",
    "pick",
    "notation",
    "arch_hash",
    "receptive_field",
    "epochs",
    "duration_s",
    "train_s",
    "profile_s",
    "device",
    "reused_from",
    "mutation_of",
    "reason",
]


def pareto_trials(study: optuna.Study) -> list[TrialRecord]:
    """Trained trials on the front, ordered by their first cost objective."""
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        return []
    front = [record for record in map(TrialRecord.from_trial, study.best_trials) if record.trained]
    return sorted(front, key=lambda record: (record.values[1], record.number))


def trial_row(record: TrialRecord, front_numbers: set[int], picks: dict[int, str] | None = None) -> dict[str, Any]:
    """One row of trials.csv; the accuracy's 95% Wilson interval beside it, and 'best' or 'knee' (`picks`).

    `record` shows the latency it is to show (`end_latency.with_end_latency`)."""
    interval = record.val_interval
    return {
        "trial": record.number,
        "state": record.state,
        "status": record.outcome,
        "accuracy": record.val_accuracy,
        "accuracy_low": interval[0] if interval else None,
        "accuracy_high": interval[1] if interval else None,
        "val_size": record.val_size,
        "macs": record.macs,
        "params": record.params,
        "latency_ms": record.latency_ms,
        "latency_p10_ms": record.latency_p10_ms,
        "latency_p90_ms": record.latency_p90_ms,
        "latency_noisy": record.latency_noisy,
        "latency_source": record.latency_source or "torch",
        "latency_threads": record.threads,  # CPU threads it was timed on (or the table's)
        "latency_when": "",
        "pareto": record.number in front_numbers,
        "pick": (picks or {}).get(record.number, ""),
        "notation": record.notation,
        "arch_hash": record.arch_hash,
        "receptive_field": record.receptive_field,
        "epochs": record.epochs,
        "duration_s": record.duration_s,
        "train_s": record.train_s,
        "profile_s": record.profile_s,
        "device": record.device,
        "reused_from": record.reused_from,
        "mutation_of": record.mutation_of,
        "reason": record.reason,
    }


def shown_row(
    record: TrialRecord, front_numbers: set[int], picks: dict[int, str], *, timed: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    """`trial_row` with the latency timed at the end of the search where there is one, and when it was timed."""
    row = trial_row(with_end_latency(record, timed), front_numbers, picks)
    row["latency_when"] = latency_when(record, timed)
    return row


def trials_frame(
    study: optuna.Study, front: list[TrialRecord] | None = None, timed: dict[int, dict[str, Any]] | None = None
) -> pd.DataFrame:
    """trials.csv's rows; `timed`: the run's end latencies (`end_latency.end_latencies`)."""
    front = pareto_trials(study) if front is None else front
    numbers, picks = {record.number for record in front}, front_picks(front)
    rows = [shown_row(record, numbers, picks, timed=timed or {}) for record in records(study)]
    return pd.DataFrame(rows, columns=COLUMNS)


def pareto_rows(
    study: optuna.Study, front: list[TrialRecord] | None = None, timed: dict[int, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The front as rows, each with its architecture and the latency the search timed (`search_latency_ms`)."""
    front = pareto_trials(study) if front is None else front
    numbers, picks = {record.number for record in front}, front_picks(front)
    return [
        {
            **shown_row(record, numbers, picks, timed=timed or {}),
            "search_latency_ms": record.latency_ms,
            "arch": record.arch,
        }
        for record in front
    ]


def write_results(study: optuna.Study, run_dir: RunDir, *, final: bool = False) -> list[dict[str, Any]]:
    """Rewrite trials.csv after every trial; pareto.json too when `final`."""
    front_trials = pareto_trials(study)  # once: both files need it
    timed = end_latencies(run_dir)
    write_text(run_dir.trials_csv, trials_frame(study, front_trials, timed).to_csv(index=False))
    front = pareto_rows(study, front_trials, timed)
    if final:
        write_json(
            run_dir.pareto_json,
            {"study": study.study_name, "objectives": objective_names(study), "trials": front},
        )
    return front
