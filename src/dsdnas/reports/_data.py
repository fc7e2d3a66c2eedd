"""Compute everything the report shows, as plain data; no HTML here.

Pareto sets, hypervolume and parameter importances come from Optuna. Tests assert on
`ReportData`; `_render` turns it into HTML.
"""

from __future__ import annotations

import shlex
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
from optuna.trial import TrialState

from dsdnas.nas.files import read_json
from dsdnas.nas.model.arch import Arch
from dsdnas.nas.runs.rundir import FINETUNE_DIR, METRICS_FILE
from dsdnas.nas.search.records import Status, TrialRecord, records
from dsdnas.nas.search.results import pareto_trials
from dsdnas.nas.search.study import objective_names
from dsdnas.reports._plotly_imports import hypervolume_values

MIN_TRIALS_FOR_IMPORTANCE = 10  # fANOVA on fewer trials says little


@dataclass
class ReportData:
    title: str
    summary: dict[str, Any]
    points: pd.DataFrame  # one row per finished trial
    front: pd.DataFrame  # one row per Pareto trial, with commands
    objectives: list[str]
    hypervolume: dict[str, Any]
    block_stats: dict[str, pd.DataFrame]  # by kind, kernel, dilation
    importances: dict[str, dict[str, float]]
    importance_note: str
    curves: dict[int, list[float]]  # front trial -> val accuracy per epoch
    layer_tables: dict[int, pd.DataFrame]
    finetuned: dict[int, float] = field(default_factory=dict)  # trial -> test accuracy


def _finished(study: optuna.Study) -> list[TrialRecord]:
    return [record for record in records(study, (TrialState.COMPLETE,)) if record.finished]


def summary(study: optuna.Study, meta: dict[str, Any]) -> dict[str, Any]:
    settings = study.user_attrs.get("settings", {})
    trials = study.get_trials(deepcopy=False)
    states = pd.Series([t.state.name for t in trials]).value_counts().to_dict() if trials else {}
    outcomes = [record.status.value if record.status else record.state.lower() for record in records(study)]
    statuses = pd.Series(outcomes).value_counts().to_dict() if outcomes else {}
    starts = [t.datetime_start for t in trials if t.datetime_start]
    ends = [t.datetime_complete for t in trials if t.datetime_complete]
    wall = (max(ends) - min(starts)).total_seconds() if starts and ends else 0.0
    return {
        "study": study.study_name,
        "dataset": settings.get("dataset", "?"),
        "search space": settings.get("space", "?"),
        "objectives": ", ".join(settings.get("objectives", [])),
        "sampler": study.user_attrs.get("sampler", "?"),
        "budget": meta.get("budget", "?"),
        "epochs per candidate": settings.get("train", {}).get("epochs", "?"),
        "device": meta.get("device", "?"),
        "torch": meta.get("torch", "?"),
        "dsdnas": meta.get("dsdnas", "?"),
        "wall time": f"{wall:.0f} s",
        "trials by state": ", ".join(f"{k} {v}" for k, v in sorted(states.items())) or "none",
        "trials by outcome": ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) or "none",
    }


def _measured(record: TrialRecord) -> dict:
    """What every table row of a trained trial shows: its number, accuracy, costs and notation."""
    return {
        "trial": record.number,
        "accuracy": record.val_accuracy,
        "macs": record.macs,
        "params": record.params,
        "latency_ms": record.latency_ms,
        "notation": record.notation,
    }


def points_frame(study: optuna.Study) -> pd.DataFrame:
    front = {t.number for t in pareto_trials(study)}
    rows = []
    for record in _finished(study):
        rows.append({**_measured(record), "pareto": record.number in front, "status": record.status.value})
    columns = ["trial", "accuracy", "macs", "params", "latency_ms", "notation", "pareto", "status"]
    return pd.DataFrame(rows, columns=columns)


def front_frame(study: optuna.Study, run_label: str, finetuned: dict[int, float]) -> pd.DataFrame:
    rows = []
    for record in pareto_trials(study):
        rows.append(
            {
                **_measured(record),
                "test_accuracy": finetuned.get(record.number),
                "finetune": f"dsdnas finetune {shlex.quote(run_label)} --trial {record.number}",
                "export": f"dsdnas export {shlex.quote(run_label)} --trial {record.number}",
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "trial",
            "accuracy",
            "test_accuracy",
            "macs",
            "params",
            "latency_ms",
            "notation",
            "finetune",
            "export",
        ],
    )


def hypervolume(study: optuna.Study, objectives: list[str]) -> dict[str, Any]:
    """Optuna's hypervolume history, with the reference point it was measured against.

    Reference: accuracy 0, and each cost at 1.1 x its largest value among finished trials.
    """
    finished = _finished(study)
    if not finished:
        return {"trials": [], "values": [], "reference": []}
    reference = [0.0] + [1.1 * max(record.values[i] for record in finished) for i in range(1, len(objectives))]
    numbers, values = hypervolume_values(study, reference)
    return {"trials": numbers, "values": values, "reference": dict(zip(objectives, reference, strict=True))}


def block_stats(study: optuna.Study) -> dict[str, pd.DataFrame]:
    """Accuracy and latency of trials by the kind, kernel and dilation of their blocks.

    Each block of each trained trial is one row, so a trial counts once per block it has.
    """
    rows = []
    for record in _finished(study):
        if record.status is not Status.TRAINED:
            continue  # a reused trial would count its architecture twice
        for block in Arch.from_dict(record.arch).blocks:
            rows.append(
                {
                    "kind": block.kind,
                    "kernel": block.kernel,
                    "dilation": block.dilation,
                    "accuracy": record.val_accuracy,
                    "latency_ms": record.latency_ms,
                    "trial": record.number,
                }
            )
    blocks = pd.DataFrame(rows, columns=["kind", "kernel", "dilation", "accuracy", "latency_ms", "trial"])
    stats = {}
    for key in ("kind", "kernel", "dilation"):
        grouped = blocks.groupby(key).agg(
            blocks=("trial", "size"),
            trials=("trial", "nunique"),
            accuracy_median=("accuracy", "median"),
            accuracy_max=("accuracy", "max"),
            latency_median_ms=("latency_ms", "median"),
        )
        stats[key] = grouped.reset_index()
    stats["raw"] = blocks
    return stats


def importances(study: optuna.Study) -> tuple[dict[str, dict[str, float]], str]:
    trained = [record for record in _finished(study) if record.status is Status.TRAINED]
    if len(trained) < MIN_TRIALS_FOR_IMPORTANCE:
        return (
            {},
            f"parameter importance needs at least {MIN_TRIALS_FOR_IMPORTANCE} trained trials; "
            f"this run has {len(trained)}",
        )
    result = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        targets = (("accuracy", lambda t: t.values[0]), ("latency", lambda t: TrialRecord.from_trial(t).latency_ms))
        for name, target in targets:
            try:
                result[name] = optuna.importance.get_param_importances(study, target=target)
            except (RuntimeError, ValueError) as error:
                return {}, f"parameter importance could not be computed: {error}"
    return result, "fANOVA importances computed by Optuna (optuna.importance.get_param_importances)"


def layer_table(arch: Arch) -> pd.DataFrame:
    rows = [
        {
            "layer": "stem",
            "block": "standard",
            "kernel": arch.stem.kernel,
            "dilation": 1,
            "stride": arch.stem.stride,
            "residual": False,
            "activation": arch.stem.activation,
        }
    ]
    rows += [
        {
            "layer": f"block {i}",
            "block": b.kind,
            "kernel": b.kernel,
            "dilation": b.dilation,
            "stride": b.stride,
            "residual": b.residual,
            "activation": b.activation,
        }
        for i, b in enumerate(arch.blocks)
    ]
    frame = pd.DataFrame(rows)
    shapes = arch.layer_shapes()
    frame["input map"] = [f"{s.in_size[0]}x{s.in_size[1]}" for s in shapes]
    frame["output"] = ["x".join(map(str, s.out_shape)) for s in shapes]
    return frame


def finetuned_accuracies(run_dir: Path | None) -> dict[int, float]:
    """Test accuracy of each trial fine-tuned in final mode under RUN/finetune/<trial>/."""
    found: dict[int, float] = {}
    root = run_dir / FINETUNE_DIR if run_dir else None
    if root is None or not root.is_dir():
        return found
    for folder in root.iterdir():
        metrics = folder / METRICS_FILE
        if folder.name.isdigit() and metrics.exists():
            found[int(folder.name)] = read_json(metrics)["test_accuracy"]
    return found


def build_report_data(study: optuna.Study, meta: dict[str, Any], run_dir: Path | None = None) -> ReportData:
    objectives = objective_names(study)
    finetuned = finetuned_accuracies(run_dir)
    front = front_frame(study, str(run_dir) if run_dir else "RUN", finetuned)
    front_trials = {record.number: record for record in pareto_trials(study)}
    importance, note = importances(study)
    return ReportData(
        title=f"dsdnas report: {study.study_name}",
        summary=summary(study, meta),
        points=points_frame(study),
        front=front,
        objectives=objectives,
        hypervolume=hypervolume(study, objectives),
        block_stats=block_stats(study),
        importances=importance,
        importance_note=note,
        curves={n: list(record.val_accuracy_history) for n, record in front_trials.items()},
        layer_tables={n: layer_table(Arch.from_dict(record.arch)) for n, record in front_trials.items()},
        finetuned=finetuned,
    )
