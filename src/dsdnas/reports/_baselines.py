"""Reference models beside the front: which candidate matches each one, at what fraction of its cost.

A front candidate matches a baseline when its validation accuracy reaches the baseline's
95% Wilson interval (is not measurably worse); the cheapest such candidate, by MACs, is
named with the cost ratios: "trial 36: resnet18's accuracy at 1/700 of its MACs and
1/1,100 of its params". A baseline scored on the test split (--test) is compared with the
front's fine-tuned test accuracies instead. Latencies are compared only when both were
timed in the same runtime: a baseline timed in torch says nothing of a candidate's
onnxruntime figure, or of one a latency table predicted for another device. The device is
not compared: `dsdnas baseline` times on its `--device`, which should be the one the
search timed its candidates on (both default to the same, `auto`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from dsdnas.nas.files import read_json
from dsdnas.nas.model.runtimes import DEFAULT_RUNTIME
from dsdnas.nas.runs.rundir import BASELINES_DIR, METRICS_FILE
from dsdnas.nas.search.records import TrialRecord
from dsdnas.nas.stats import wilson_interval

COLUMNS = [
    "baseline",
    "split",
    "accuracy",
    "accuracy_low",
    "accuracy_high",
    "size",
    "macs",
    "params",
    "latency_ms",
    "latency_p10_ms",
    "latency_p90_ms",
    "latency_noisy",
    "latency_runtime",
    "threads",  # CPU threads its latency was timed on
    "epochs",
]


def load_baselines(run_dir: Path | None) -> pd.DataFrame:
    """One row per RUN/baselines/<name>/metrics.json, with the accuracy's 95% interval."""
    rows = []
    root = run_dir / BASELINES_DIR if run_dir else None
    for metrics_file in sorted(root.glob(f"*/{METRICS_FILE}")) if root and root.is_dir() else []:
        metrics = read_json(metrics_file)
        low, high = wilson_interval(metrics["accuracy"], metrics["size"])
        rows.append(
            {key: metrics.get(key) for key in COLUMNS}
            | {
                "baseline": metrics["model"],
                "accuracy_low": low,
                "accuracy_high": high,
                "latency_runtime": metrics.get("latency_runtime") or DEFAULT_RUNTIME,  # older ones: torch
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def same_threads(theirs: float | None, ours: int | None) -> bool:
    """Whether two figures were timed on as many CPU threads; a count a file lacks matches any."""
    return ours is None or pd.isna(theirs) or int(theirs) == ours


def fraction(baseline: float, candidate: float) -> str:
    """'1/700': the candidate's cost as a fraction of the baseline's (or '1.5x' when it costs more)."""
    if not candidate or not baseline:
        return "-"
    ratio = baseline / candidate
    if ratio < 1:
        return f"{1 / ratio:.2g}x"
    return f"1/{ratio:,.0f}" if ratio >= 10 else f"1/{ratio:.1f}"


def compare(front: list[TrialRecord], baselines: pd.DataFrame, finetuned: dict[int, dict]) -> list[dict[str, Any]]:
    """For each baseline, the cheapest front candidate that matches its accuracy, with the cost ratios."""
    rows = []
    for baseline in baselines.to_dict("records"):
        on_test = baseline["split"] == "test"
        scored = [
            (record, finetuned[record.number]["accuracy"] if on_test else record.val_accuracy)
            for record in front
            if (record.number in finetuned if on_test else record.val_accuracy is not None)
        ]
        matches = [(record, accuracy) for record, accuracy in scored if accuracy >= baseline["accuracy_low"]]
        row: dict[str, Any] = {"baseline": baseline["baseline"], "split": baseline["split"], "trial": None}
        if not matches:
            what = "fine-tuned candidate" if on_test else "front candidate"
            row["sentence"] = f"no {what} reaches {baseline['baseline']}'s accuracy ({100 * baseline['accuracy']:.2f}%)"
            rows.append(row)
            continue
        record, accuracy = min(matches, key=lambda match: (match[0].macs, match[0].number))
        macs, params = fraction(baseline["macs"], record.macs), fraction(baseline["params"], record.params)
        latency, latency_words = _latency_ratio(baseline, record)
        row.update(
            trial=record.number,
            accuracy=accuracy,
            macs_fraction=macs,
            params_fraction=params,
            latency_fraction=latency,
            sentence=f"trial {record.number}: {baseline['baseline']}'s accuracy at {macs} of its MACs, "
            f"{params} of its params{latency_words}",
        )
        rows.append(row)
    return rows


def _latency_ratio(baseline: dict[str, Any], record: TrialRecord) -> tuple[str, str]:
    """The candidate's latency as a fraction of the baseline's, and how the sentence says it; '-' and why
    not when the two figures come from different runtimes or thread counts (or one was predicted by a table)."""
    theirs, ours = baseline["latency_runtime"], record.latency_source or DEFAULT_RUNTIME
    if theirs != ours:
        how = ours if ours.startswith("predicted") else f"timed in {ours}"
        return "-", f"; no latency ratio: {baseline['baseline']}'s was timed in {theirs}, the candidate's {how}"
    if not same_threads(baseline.get("threads"), record.threads):
        return "-", (
            f"; no latency ratio: {baseline['baseline']}'s was timed on {baseline['threads']:.0f} CPU thread(s), "
            f"the candidate's on {record.threads}"
        )
    latency = fraction(baseline["latency_ms"], record.latency_ms)
    return latency, f" and {latency} of its latency"
