"""Tables of a study's trials, its Pareto front, and the files that hold them.

The Pareto front comes from Optuna (`study.best_trials`, which honours constraints);
a reused duplicate is left out in favour of the trial that trained its architecture.
"""

from __future__ import annotations

from typing import Any

import optuna
import pandas as pd
from optuna.trial import TrialState

from dsdnas.nas.rundir import RunDir, write_json, write_text

COLUMNS = [
    "trial",
    "state",
    "status",
    "accuracy",
    "macs",
    "params",
    "latency_ms",
    "latency_p90_ms",
    "pareto",
    "notation",
    "arch_hash",
    "receptive_field",
    "epochs",
    "duration_s",
    "train_s",
    "profile_s",
    "device",
    "reused_from",
    "reason",
]


def finished_count(study: optuna.Study, statuses: tuple[str, ...]) -> int:
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return sum(1 for trial in trials if trial.user_attrs.get("status") in statuses)


def objective_names(study: optuna.Study) -> list[str]:
    settings = study.user_attrs.get("settings", {})
    return list(settings.get("objectives", ["accuracy", "macs"]))


def pareto_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """Trained trials on the front, ordered by their first cost objective."""
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        return []
    front = [t for t in study.best_trials if t.user_attrs.get("status") == "trained"]
    return sorted(front, key=lambda t: (t.values[1], t.number))


def trial_row(trial: optuna.trial.FrozenTrial, front_numbers: set[int]) -> dict[str, Any]:
    attrs = trial.user_attrs
    return {
        "trial": trial.number,
        "state": trial.state.name,
        "status": attrs.get("status", trial.state.name.lower()),
        "accuracy": attrs.get("val_accuracy"),
        "macs": attrs.get("macs"),
        "params": attrs.get("params"),
        "latency_ms": attrs.get("latency_ms"),
        "latency_p90_ms": attrs.get("latency_p90_ms"),
        "pareto": trial.number in front_numbers,
        "notation": attrs.get("notation", ""),
        "arch_hash": attrs.get("arch_hash", ""),
        "receptive_field": attrs.get("receptive_field"),
        "epochs": attrs.get("epochs"),
        "duration_s": attrs.get("duration_s"),
        "train_s": attrs.get("train_s"),
        "profile_s": attrs.get("profile_s"),
        "device": attrs.get("device", ""),
        "reused_from": attrs.get("reused_from"),
        "reason": attrs.get("reason", ""),
    }


def trials_frame(study: optuna.Study, front: list[optuna.trial.FrozenTrial] | None = None) -> pd.DataFrame:
    front_numbers = {t.number for t in (pareto_trials(study) if front is None else front)}
    rows = [trial_row(t, front_numbers) for t in study.get_trials(deepcopy=False)]
    return pd.DataFrame(rows, columns=COLUMNS)


def pareto_rows(study: optuna.Study, front: list[optuna.trial.FrozenTrial] | None = None) -> list[dict[str, Any]]:
    front = pareto_trials(study) if front is None else front
    numbers = {t.number for t in front}
    return [{**trial_row(t, numbers), "arch": t.user_attrs.get("arch")} for t in front]


def write_results(study: optuna.Study, run_dir: RunDir, final: bool = False) -> list[dict[str, Any]]:
    """Rewrite trials.csv after every trial; pareto.json too when `final`."""
    front_trials = pareto_trials(study)  # once: both files need it
    write_text(run_dir.trials_csv, trials_frame(study, front_trials).to_csv(index=False))
    front = pareto_rows(study, front_trials)
    if final:
        write_json(
            run_dir.pareto_json,
            {"study": study.study_name, "objectives": objective_names(study), "trials": front},
        )
    return front
