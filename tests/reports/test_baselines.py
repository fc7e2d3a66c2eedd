"""Reference models beside the front: the cheapest matching candidate, and its latency compared only in one runtime."""

import json

import pytest

from dsdnas.nas.search.records import Status, TrialRecord
from dsdnas.reports._baselines import compare, load_baselines


def _baseline(run_dir, name: str, **extra) -> None:
    """RUN/baselines/<name>/metrics.json as `dsdnas baseline` writes it: 1.0 ms, 90% of 400 validation images."""
    folder = run_dir / "baselines" / name
    folder.mkdir(parents=True)
    metrics = {"model": name, "split": "validation", "accuracy": 0.90, "size": 400, "macs": 1_000_000}
    metrics |= {"params": 10_000, "latency_ms": 1.0, "latency_p10_ms": 0.9, "latency_p90_ms": 1.1, "epochs": 3}
    (folder / "metrics.json").write_text(json.dumps(metrics | extra))


def _candidate(number: int, accuracy: float, macs: int, latency_ms: float, source: str = "") -> TrialRecord:
    return TrialRecord(
        number=number,
        state="COMPLETE",
        status=Status.TRAINED,
        val_accuracy=accuracy,
        macs=macs,
        params=macs // 100,
        latency_ms=latency_ms,
        latency_source=source,
    )


def test_a_baseline_from_before_runtimes_were_recorded_reads_as_torch_and_is_compared(tmp_path):
    _baseline(tmp_path, "seed-cnn")  # no latency_runtime: written before --latency-runtime existed
    baselines = load_baselines(tmp_path)
    assert baselines["latency_runtime"].tolist() == ["torch"]
    cheap, dear = _candidate(3, 0.91, 10_000, 0.25), _candidate(4, 0.95, 100_000, 0.5)
    [row] = compare([dear, cheap], baselines, {})
    assert row["trial"] == 3 and row["macs_fraction"] == "1/100" and row["latency_fraction"] == "1/4.0"
    assert row["sentence"] == (
        "trial 3: seed-cnn's accuracy at 1/100 of its MACs, 1/100 of its params and 1/4.0 of its latency"
    )


@pytest.mark.parametrize(
    ("baseline_runtime", "candidate_source", "said"),
    [
        (
            "torch",
            "onnxruntime",
            "no latency ratio (seed-cnn's was timed in torch, the candidate's timed in onnxruntime)",
        ),
        ("onnxruntime", "", "no latency ratio (seed-cnn's was timed in onnxruntime, the candidate's timed in torch)"),
        (
            "torch",
            "predicted for phone cpu, torch 1 threads (lut.json)",
            "no latency ratio (seed-cnn's was timed in torch, the candidate's predicted for phone cpu, "
            "torch 1 threads (lut.json))",
        ),
    ],
)
def test_latencies_from_different_runtimes_are_not_compared(tmp_path, baseline_runtime, candidate_source, said):
    _baseline(tmp_path, "seed-cnn", latency_runtime=baseline_runtime)
    [row] = compare([_candidate(3, 0.91, 10_000, 0.25, candidate_source)], load_baselines(tmp_path), {})
    assert row["latency_fraction"] == "-" and row["macs_fraction"] == "1/100"
    assert row["sentence"].endswith(said)
