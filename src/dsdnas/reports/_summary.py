"""The report's summary: what was searched, on which machine, and what the numbers can and cannot tell."""

from __future__ import annotations

from typing import Any

import optuna
import pandas as pd

from dsdnas.nas.lut import spearman_text
from dsdnas.nas.model.latency import figure_rule
from dsdnas.nas.search.records import TrialRecord, records
from dsdnas.nas.stats import tied_with_best


def summary(study: optuna.Study, meta: dict[str, Any], finished: list[TrialRecord]) -> dict[str, Any]:
    settings = study.user_attrs.get("settings", {})
    trials = study.get_trials(deepcopy=False)
    outcomes = [record.outcome for record in records(study)]
    statuses = pd.Series(outcomes).value_counts().to_dict() if outcomes else {}
    starts = [t.datetime_start for t in trials if t.datetime_start]
    ends = [t.datetime_complete for t in trials if t.datetime_complete]
    wall = (max(ends) - min(starts)).total_seconds() if starts and ends else 0.0
    noisy = sum(1 for record in finished if record.latency_noisy)
    return {
        "study": study.study_name,
        "dataset": settings.get("dataset", "?"),
        "search space": settings.get("space", "?"),
        "objectives": ", ".join(settings.get("objectives", [])),
        "sampler": sampler_text(study.user_attrs),
        "budget": meta.get("budget", "?"),
        "jobs": meta.get("jobs", 1),
        "epochs per candidate": settings.get("train", {}).get("epochs", "?"),
        **machine_lines(meta),
        "wall time": f"{wall:.0f} s",
        # The words the rest of the tool uses (trained, reused, stopped, skipped, failed, twin), not Optuna's states.
        "trials by outcome": ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) or "none",
        "latency": latency_line(meta, noisy, len(finished)),
    }


def sampler_text(attrs: dict[str, Any]) -> str:
    """The sampler, or each one a continued run changed to with the trial it began at."""
    changes = attrs.get("sampler_changes")
    if not changes:
        return attrs.get("sampler", "?")
    return ", then ".join(f"{name} from trial {first}" if first else name for first, name in changes)


def latency_line(meta: dict[str, Any], noisy: int, finished: int) -> str:
    """How the run's latencies were had: timed here in a runtime, or predicted by a table, with its error."""
    table = meta.get("latency_table")
    if not table:
        runtime, threads = meta.get("latency_runtime", "torch"), timing_threads(meta)
        rule = figure_rule(runtime, meta.get("device", "cpu"))
        on = f" on {threads} CPU thread(s)" if threads else ""
        return f"{runtime}{on}, batch 1, {rule}; {noisy} of {finished} flagged noisy"
    check, calibration = table.get("check") or {}, table.get("calibration") or {}
    if check.get("candidates"):
        error = (
            f"checked on {check['candidates']} candidates timed whole there ({check.get('measured', '?')}): "
            f"{check['mape']:.1%} mean absolute error, Spearman {spearman_text(check)}"
        )
    else:
        error = f"not checked (dsdnas lut --check N); {calibration.get('mape') or 0:.1%} on its calibration candidates"
    return f"{table['label']}; {error}"


def timing_threads(meta: dict[str, Any]) -> int | None:
    """The CPU threads a run's latencies were timed on: --latency-threads, else every core of its machine."""
    return meta.get("latency_threads") or (meta.get("machine") or {}).get("cpus")


def machine_lines(meta: dict[str, Any]) -> dict[str, str]:
    """Device, CPU, GPU and versions, so that two reports can be compared honestly."""
    machine = meta.get("machine") or {}
    versions = machine.get("versions") or {"torch": meta.get("torch", "?"), "dsdnas": meta.get("dsdnas", "?")}
    lines = {"device": str(meta.get("device", "?"))}
    if machine:
        lines["machine"] = (
            f"{machine.get('cpu', '?')}, {machine.get('cpus', '?')} CPUs, {machine.get('torch_threads', '?')} "
            f"torch threads, host {machine.get('host', '?')}"
        )
        if machine.get("gpu"):
            lines["GPU"] = str(machine["gpu"])
    lines["versions"] = ", ".join(f"{name} {version}" for name, version in versions.items())
    return lines


def accuracy_note(front: list[TrialRecord]) -> str:
    """Says so when the front's most accurate candidates cannot be told apart on this validation split."""
    sized = [record for record in front if record.val_size and record.val_accuracy is not None]
    if len(sized) < 2:
        return ""
    size = min(record.val_size for record in sized)
    tied = tied_with_best([record.val_accuracy for record in sized], size)
    if not tied:
        return ""
    best = max(sized, key=lambda record: record.val_accuracy)
    numbers = ", ".join(str(sized[i].number) for i in tied)
    return (
        f"The front's most accurate trial ({best.number}, {100 * best.val_accuracy:.2f}%) and trial(s) {numbers} "
        f"overlap within their 95% intervals on {size:,} validation images: this split cannot rank them. "
        f"Use a larger --val-fraction, or the full dataset, to tell them apart."
    )
