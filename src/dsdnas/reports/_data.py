"""Compute everything the report shows, as plain data; no HTML here.

Pareto sets, hypervolume and parameter importances come from Optuna. Tests assert on
`ReportData`; `_render` turns it into HTML. Every accuracy carries its 95% Wilson
interval; a model's latency is the one timed at the end of the search (RUN/front_latency.json,
`end_latency.py`) where the run has one.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
from optuna.study._multi_objective import _fast_non_domination_rank  # Optuna's own non-dominated sort
from optuna.trial import TrialState

from dsdnas.nas.files import read_json
from dsdnas.nas.model.arch import Arch
from dsdnas.nas.model.runtimes import DEFAULT_RUNTIME
from dsdnas.nas.runs.rundir import FINETUNE_DIR, METRICS_FILE, RunDir
from dsdnas.nas.search.end_latency import end_latencies, latency_when, with_end_latency
from dsdnas.nas.search.picks import KNEE_RULE, front_picks
from dsdnas.nas.search.records import Status, TrialRecord, objective_names, records
from dsdnas.nas.search.results import pareto_trials
from dsdnas.nas.search.shipped import Member, finetuned_members, read_shipped, shipped_front
from dsdnas.nas.stats import wilson_interval
from dsdnas.reports._baselines import COLUMNS as BASELINE_COLUMNS
from dsdnas.reports._baselines import compare, load_baselines
from dsdnas.reports._blocks import block_stats, importances, layer_table
from dsdnas.reports._hypervolume import hypervolume_history
from dsdnas.reports._references import COLUMNS as REFERENCE_COLUMNS
from dsdnas.reports._references import REFERENCES_FILE, read_references, verdicts
from dsdnas.reports._summary import accuracy_note, summary, timing_threads

POINT_COLUMNS = [
    "trial",
    "accuracy",
    "accuracy_low",
    "accuracy_high",
    "macs",
    "params",
    "latency_ms",
    "latency_p10_ms",
    "latency_p90_ms",
    "latency_noisy",
    "latency_when",
    "notation",
]


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
    finetuned: dict[int, dict[str, Any]] = field(default_factory=dict)  # trial -> test accuracy and interval
    accuracy_note: str = ""  # said when the front's best candidates cannot be told apart
    stopped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=POINT_COLUMNS))  # at their rung
    rungs: list[dict[str, Any]] = field(default_factory=list)  # trial, status, epochs and accuracy at each rung
    baselines: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BASELINE_COLUMNS))
    comparisons: list[dict[str, Any]] = field(default_factory=list)  # each baseline's cheapest match
    knee_rule: str = KNEE_RULE  # how the front table's knee is chosen, in words
    members: list[Member] = field(default_factory=list)  # fine-tuned trials (final mode), cheapest first
    shipped_front: set[int] = field(default_factory=set)  # members no other beats on test accuracy and MACs
    references: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(REFERENCE_COLUMNS)))
    verdicts: list[dict[str, Any]] = field(default_factory=list)  # each reference point against the members
    latency_table: dict[str, Any] | None = None  # run.json's: the search's latencies were predicted by it
    latency_source: str = DEFAULT_RUNTIME  # the runtime that timed the search's latencies, or the table's label
    latency_threads: int | None = None  # the CPU threads that timed them (None: unknown, or a table's)


def _finished(study: optuna.Study) -> list[TrialRecord]:
    return [record for record in records(study, (TrialState.COMPLETE,)) if record.finished]


def _measured(record: TrialRecord, timed: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """What every row of a finished trial shows; its latency is the one timed at the end of the search
    where there is one (`end_latency`), and `latency_when` says when and in what runtime."""
    interval = record.val_interval or (None, None)
    shown = with_end_latency(record, timed)
    source = record.latency_source or "torch"
    when = latency_when(record, timed)
    return {
        "trial": record.number,
        "accuracy": record.val_accuracy,
        "accuracy_low": interval[0],
        "accuracy_high": interval[1],
        "macs": record.macs,
        "params": record.params,
        "latency_ms": shown.latency_ms,
        "latency_p10_ms": shown.latency_p10_ms,
        "latency_p90_ms": shown.latency_p90_ms,
        "latency_noisy": bool(shown.latency_noisy),
        "latency_when": source if source.startswith("predicted") else f"timed {when}, {source}" if when else "",
        "notation": record.notation,
    }


def points_frame(finished: list[TrialRecord], front: set[int], timed: dict[int, dict]) -> pd.DataFrame:
    """One row per finished trial; `latency_front` marks those no other beats on both accuracy and the
    latency shown (Optuna's non-dominated sort), which the latency plot highlights."""
    rows = [
        {**_measured(record, timed), "pareto": record.number in front, "status": record.status.value}
        for record in finished
    ]
    frame = pd.DataFrame(rows, columns=[*POINT_COLUMNS, "pareto", "status"])
    losses = frame[["accuracy", "latency_ms"]].to_numpy(dtype=float) * [-1.0, 1.0]
    frame["latency_front"] = _fast_non_domination_rank(losses) == 0 if len(frame) else []
    return frame


def stopped_frame(study: optuna.Study) -> pd.DataFrame:
    """Candidates stopped at a rung, at the accuracy they had there: shown, never on the front."""
    stopped = [r for r in records(study, (TrialState.PRUNED,)) if r.status is Status.STOPPED and r.macs is not None]
    return pd.DataFrame([_measured(record, {}) for record in stopped], columns=POINT_COLUMNS)


def rung_curves(study: optuna.Study) -> list[dict[str, Any]]:
    """Accuracy at each rung, and at the end for those trained on, of every candidate judged at a rung."""
    curves = []
    for record in records(study, (TrialState.COMPLETE, TrialState.PRUNED)):
        if not record.rung_accuracies or record.reused_from is not None:  # a copy: its twin's curve is drawn
            continue
        points = sorted((float(epochs), accuracy) for epochs, accuracy in record.rung_accuracies.items())
        if record.trained:
            points.append((record.epochs, record.val_accuracy))
        curves.append({"trial": record.number, "status": record.status.value, "points": points})
    return curves


def front_frame(
    front: list[TrialRecord],
    *,
    run_label: str,
    finetuned: dict[int, dict[str, Any]],
    timed: dict[int, dict],
    storage: str | None = None,
) -> pd.DataFrame:
    """The front table's rows, with fine-tuned test accuracies and ready-to-paste commands.

    A run on a shared storage gets `--storage URL` in its commands, the password masked.
    """
    where = shlex.quote(run_label) + (f" --storage {shlex.quote(storage)}" if storage else "")
    picks = front_picks(front)
    rows = []
    for record in front:
        tuned = finetuned.get(record.number, {})
        rows.append(
            {
                **_measured(record, timed),
                "pick": picks.get(record.number, ""),
                "test_accuracy": tuned.get("accuracy"),
                "test_low": tuned.get("low"),
                "test_high": tuned.get("high"),
                "finetune": f"dsdnas finetune {where} --trial {record.number}",
                "export": f"dsdnas export {where} --trial {record.number}",
            }
        )
    columns = [*POINT_COLUMNS, "pick", "test_accuracy", "test_low", "test_high", "finetune", "export"]
    return pd.DataFrame(rows, columns=columns)


def finetuned_accuracies(run_dir: Path | None) -> dict[int, dict[str, Any]]:
    """Test accuracy and its 95% interval of each trial fine-tuned in final mode under RUN/finetune/<trial>/."""
    found: dict[int, dict[str, Any]] = {}
    root = run_dir / FINETUNE_DIR if run_dir else None
    if root is None or not root.is_dir():
        return found
    for folder in root.iterdir():
        metrics_file = folder / METRICS_FILE
        if folder.name.isdigit() and metrics_file.exists():
            metrics = read_json(metrics_file)
            accuracy, size = metrics["test_accuracy"], metrics.get("test_size")
            low, high = wilson_interval(accuracy, size) if size else (None, None)
            found[int(folder.name)] = {"accuracy": accuracy, "low": low, "high": high, "size": size}
    return found


def shipped_members(run_dir: RunDir) -> list[Member]:
    """The members the shipped front is made of: those of the last `finetune --front` when there was
    one (what export chooses from), else every finished final fine-tune of a trial."""
    shipped = read_shipped(run_dir)
    return shipped.finished if shipped is not None else finetuned_members(run_dir)


def build_report_data(study: optuna.Study, meta: dict[str, Any], run_dir: Path | None = None) -> ReportData:
    objectives = objective_names(study)
    finished = _finished(study)
    front = pareto_trials(study)
    timed = end_latencies(RunDir(run_dir) if run_dir else None)
    shown = [with_end_latency(record, timed) for record in finished]  # one latency per model, everywhere
    finetuned = finetuned_accuracies(run_dir)
    importance, note = importances(study, shown)
    baselines = load_baselines(run_dir)
    members = shipped_members(RunDir(run_dir)) if run_dir else []
    reference_file = run_dir / REFERENCES_FILE if run_dir else None
    references = read_references(reference_file) if reference_file and reference_file.exists() else None
    return ReportData(
        title=f"dsdnas report: {study.study_name}",
        summary=summary(study, meta, finished),
        points=points_frame(finished, {record.number for record in front}, timed),
        front=front_frame(
            front,
            run_label=str(run_dir) if run_dir else "RUN",
            finetuned=finetuned,
            timed=timed,
            storage=meta.get("storage"),
        ),
        objectives=objectives,
        hypervolume=hypervolume_history(objectives, finished),
        block_stats=block_stats(shown),
        importances=importance,
        importance_note=note,
        curves={record.number: list(record.val_accuracy_history) for record in front},
        layer_tables={record.number: layer_table(Arch.from_dict(record.arch)) for record in front},
        finetuned=finetuned,
        accuracy_note=accuracy_note(front),
        stopped=stopped_frame(study),
        rungs=rung_curves(study),
        baselines=baselines,
        comparisons=compare([with_end_latency(record, timed) for record in front], baselines, finetuned),
        members=members,
        shipped_front={member.number for member in shipped_front(members)},
        **({} if references is None else {"references": references, "verdicts": verdicts(references, members)}),
        latency_table=meta.get("latency_table"),
        latency_source=(meta.get("latency_table") or {}).get("label") or meta.get("latency_runtime") or DEFAULT_RUNTIME,
        latency_threads=None if meta.get("latency_table") else timing_threads(meta),
    )
