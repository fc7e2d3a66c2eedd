"""Reference models beside the front: the cheapest matching candidate, and its latency compared only in one runtime."""

import json

import pytest

from dsdnas.nas.search.records import Status, TrialRecord
from dsdnas.reports._baselines import compare, fraction, load_baselines


def _baseline(run_dir, name: str, **extra) -> None:
    """RUN/baselines/<name>/metrics.json as `dsdnas baseline` writes it: 1.0 ms, 90% of 400 validation images."""
    folder = run_dir / "baselines" / name
    folder.mkdir(parents=True)
    metrics = {"model": name, "split": "validation", "accuracy": 0.90, "size": 400, "macs": 1_000_000}
    metrics |= {"params": 10_000, "latency_ms": 1.0, "latency_p10_ms": 0.9, "latency_p90_ms": 1.1, "epochs": 3}
    (folder / "metrics.json").write_text(json.dumps(metrics | extra))


def _candidate(
    number: int, accuracy: float, macs: int, latency_ms: float, source: str = "", threads: int | None = None
) -> TrialRecord:
    return TrialRecord(
        number=number,
        state="COMPLETE",
        status=Status.TRAINED,
        val_accuracy=accuracy,
        macs=macs,
        params=macs // 100,
        latency_ms=latency_ms,
        latency_source=source,
        threads=threads,
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
            "of its params; no latency ratio: seed-cnn's was timed in torch, the candidate's timed in onnxruntime",
        ),
        ("onnxruntime", "", "; no latency ratio: seed-cnn's was timed in onnxruntime, the candidate's timed in torch"),
        (
            "torch",
            "predicted for phone cpu, torch 1 threads (lut.json)",
            "; no latency ratio: seed-cnn's was timed in torch, the candidate's predicted for phone cpu, "
            "torch 1 threads (lut.json)",
        ),
    ],
)
def test_latencies_from_different_runtimes_are_not_compared(tmp_path, baseline_runtime, candidate_source, said):
    _baseline(tmp_path, "seed-cnn", latency_runtime=baseline_runtime)
    [row] = compare([_candidate(3, 0.91, 10_000, 0.25, candidate_source)], load_baselines(tmp_path), {})
    assert row["latency_fraction"] == "-" and row["macs_fraction"] == "1/100"
    assert row["sentence"].endswith(said)


@pytest.mark.parametrize(
    ("baseline_threads", "candidate_threads", "fraction_shown"),
    [(2, 1, "-"), (1, 2, "-"), (1, 1, "1/4.0"), (None, 1, "1/4.0"), (2, None, "1/4.0")],  # None: a file from before
)
def test_latencies_timed_on_different_thread_counts_are_not_compared(
    tmp_path, baseline_threads, candidate_threads, fraction_shown
):
    _baseline(tmp_path, "seed-cnn", **({} if baseline_threads is None else {"threads": baseline_threads}))
    [row] = compare([_candidate(3, 0.91, 10_000, 0.25, threads=candidate_threads)], load_baselines(tmp_path), {})
    assert row["latency_fraction"] == fraction_shown
    if fraction_shown == "-":
        said = f"seed-cnn's was timed on {baseline_threads} CPU thread(s), the candidate's on {candidate_threads}"
        assert row["sentence"].endswith(f"; no latency ratio: {said}")


@pytest.mark.parametrize(
    ("baseline", "candidate", "shown"),
    [
        (1000.0, 1.0, "1/1,000"),  # ten times or more: a whole number, with thousands separated
        (10.0, 1.0, "1/10"),
        (3.0, 2.0, "1/1.5"),  # less than ten times: one decimal
        (1.0, 1.0, "1/1.0"),
        (2.0, 3.0, "1.5x"),  # the candidate costs more
        (0.0, 5.0, "-"),
        (5.0, None, "-"),  # not measured
    ],
)
def test_a_cost_ratio_reads_as_a_fraction_of_the_baselines(baseline, candidate, shown):
    assert fraction(baseline, candidate) == shown


def test_with_no_baseline_there_is_an_empty_table_with_every_column(tmp_path):
    for run_dir in (None, tmp_path):  # no run, and a run without RUN/baselines
        frame = load_baselines(run_dir)
        assert frame.empty and list(frame.columns) == [
            "baseline", "split", "accuracy", "accuracy_low", "accuracy_high", "size", "macs", "params", "latency_ms",
            "latency_p10_ms", "latency_p90_ms", "latency_noisy", "latency_runtime", "threads", "epochs",
        ]  # fmt: skip


def test_the_cheapest_candidate_inside_the_baselines_interval_is_named_and_ties_go_to_the_earlier_trial(tmp_path):
    _baseline(tmp_path, "seed-cnn")
    baselines = load_baselines(tmp_path)
    [low] = baselines["accuracy_low"]
    assert low == pytest.approx(0.8667, abs=1e-4)  # Wilson's 95% interval of 90% on 400 images: 86.67-92.57%
    assert baselines["accuracy_high"][0] == pytest.approx(0.9257, abs=1e-4)
    at_the_edge, twin = _candidate(7, low, 50_000, 0.3), _candidate(5, low, 50_000, 0.3)
    below = _candidate(2, low - 0.001, 1_000, 0.1)  # cheaper, but measurably worse
    [row] = compare([at_the_edge, below, twin], baselines, {})
    assert row["trial"] == 5 and row["accuracy"] == low and row["params_fraction"] == "1/20"


def test_a_baseline_on_test_is_matched_by_fine_tuned_test_accuracies_and_each_baseline_gets_its_row(tmp_path):
    _baseline(tmp_path, "linear", split="test", size=1000)
    _baseline(tmp_path, "densenet121", accuracy=0.999, size=1000)  # listed first: none matches, the next still does
    strong_in_search = _candidate(1, 0.99, 1_000, 0.1)  # never fine-tuned: says nothing of the test split
    tuned, weak = _candidate(2, 0.80, 20_000, 0.2), _candidate(3, 0.99, 5_000, 0.1)
    finetuned = {2: {"accuracy": 0.93}, 3: {"accuracy": 0.50}}
    densenet, linear = compare([strong_in_search, tuned, weak], load_baselines(tmp_path), finetuned)
    assert (linear["baseline"], linear["split"], linear["trial"], linear["accuracy"]) == ("linear", "test", 2, 0.93)
    assert linear["macs_fraction"] == "1/50"
    assert (densenet["baseline"], densenet["trial"]) == ("densenet121", None)
    assert densenet["sentence"] == "no front candidate reaches densenet121's accuracy (99.90%)"


def test_no_fine_tuned_candidate_reaching_a_test_baseline_is_said(tmp_path):
    _baseline(tmp_path, "linear", split="test", size=1000)
    [row] = compare([_candidate(1, 0.99, 1_000, 0.1)], load_baselines(tmp_path), {1: {"accuracy": 0.5}})
    assert row["trial"] is None and row["sentence"] == "no fine-tuned candidate reaches linear's accuracy (90.00%)"
