"""Latency: rounds, a robust figure with its spread, and a flag when the machine is busy."""

import dataclasses
import subprocess
import sys
import time

import pytest
import torch

from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.cpu_meter import CpuMeter
from dsdnas.nas.model.figure import percentile, unstable_reason
from dsdnas.nas.model.latency import measure_latency

BUSY_LOOP = "import time\nend = time.time() + 60\nwhile time.time() < end:\n    pass\n"


def test_latency_reports_its_rounds_and_orders_models_by_their_work(small_arch):
    model = build_model(small_arch)
    wider = dataclasses.replace(
        small_arch, blocks=tuple(dataclasses.replace(b, channels=4 * b.channels) for b in small_arch.blocks)
    )  # about 16x the multiply-adds
    torch.set_num_threads(2)
    # Batch 8: the work, not the per-pass overhead, sets both figures (raw ratio about 5 on the 2-core VM).
    options = {"batch_size": 8, "warmup": 2, "repeats": 10, "device": "cpu", "threads": 1}
    latency = measure_latency(model, small_arch.input_shape, **options)
    slower = measure_latency(build_model(wider), wider.input_shape, **options)
    assert latency.batch_size == 8 and latency.repeats >= 10 and len(latency.rounds_ms) == 5
    assert 0 < latency.p10_ms <= latency.p50_ms <= latency.p90_ms
    assert slower.p50_ms > 2 * latency.p50_ms, (slower, latency)
    assert latency.threads == 1 and torch.get_num_threads() == 2  # measured on 1 thread, then restored
    assert latency.peak_memory_mb is None  # CPU: no CUDA memory to report
    assert model.training  # the caller's mode is restored


def test_percentile_interpolates():
    assert percentile([1, 2, 3, 4, 5], 0.5) == 3
    assert percentile([0, 10], 0.9) == pytest.approx(9.0)
    assert percentile([4, 1, 3, 2], 0.5) == 2.5  # between the two middle values, once sorted
    assert percentile([4, 1, 3, 2], 1.0) == 4 and percentile([4, 1, 3, 2], 0.0) == 1


QUIET = [1.0, 1.01, 0.99, 1.02, 1.0, 1.01, 1.0, 0.98, 1.03, 1.0]


@pytest.mark.parametrize(
    ("rounds", "other", "reason"),
    [
        ([QUIET] * 5, 0.01, ""),
        ([QUIET] * 5, None, ""),  # no /proc: the timing alone decides
        ([QUIET, QUIET, QUIET, [2.0] * 10, [x * 1.6 for x in QUIET]], 0.0, ""),  # two spiky rounds: min unbiased
        ([QUIET, [2.0] * 10, [1.8] * 10, [1.6] * 10, [1.7] * 10], 0.0, "only 1 of 5 within 15%"),
        ([QUIET[:6] + [2.0] * 4] * 5, 0.0, "p90 is 2.0x the median"),
        ([QUIET] * 5, 0.5, "other processes used 50% of the CPU"),
        # The limits themselves are still quiet: a quarter of the CPU to others, a round 15% over the fastest,
        # a p90 of 1.5x the median (here of passes near 2 ms: the ratio, not the difference, is judged).
        ([QUIET] * 5, 0.25, ""),
        ([[2.0] * 10, [2.3] * 10, [2.3] * 10, [2.3] * 10, [2.3] * 10], 0.0, ""),
        ([[2.0] * 8 + [3.0] * 2] * 5, 0.0, ""),
    ],
)
def test_what_makes_a_measurement_unstable(rounds, other, reason):
    got = unstable_reason(rounds, other)
    assert (reason in got) if reason else got == ""


@pytest.mark.slow
def test_the_cpu_meter_sees_another_process_burn_a_core():
    meter = CpuMeter()
    meter.start()
    time.sleep(0.5)
    quiet = meter.share()
    busy = subprocess.Popen([sys.executable, "-c", BUSY_LOOP])
    try:
        time.sleep(0.3)
        meter.start()
        time.sleep(1.0)
        loaded = meter.share()
    finally:
        busy.kill()
        busy.wait()
    assert loaded > quiet + 0.25 / meter.cores  # one busy process is at least a core's worth


@pytest.mark.slow
def test_a_quiet_measurement_is_not_flagged(small_arch):
    """A measurer that always cried noise would pass the test below; this one it fails. Three tries:
    the machine may be busy for a moment, but not three times in a row in a test run."""
    model = build_model(small_arch)
    tries = []
    for _ in range(3):
        tries.append(measure_latency(model, small_arch.input_shape, device="cpu", threads=2))
        if not tries[-1].noisy:
            break
    assert not tries[-1].noisy and tries[-1].reason == "", [t.reason for t in tries]


@pytest.mark.slow
def test_a_measurement_under_load_is_close_to_quiet_or_flagged(small_arch):
    """The issue's bar: within 25% of the quiet figure, or flagged noisy. Asserts the flag or the ratio."""
    model = build_model(small_arch)
    shape = small_arch.input_shape
    quiet = measure_latency(model, shape, device="cpu", threads=2)
    burners = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(2)]
    try:
        time.sleep(0.5)
        loaded = measure_latency(model, shape, device="cpu", threads=2)
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    assert loaded.noisy or loaded.p50_ms <= 1.25 * quiet.p50_ms, (loaded, quiet)
    if loaded.noisy:
        assert loaded.attempts == 3 and loaded.reason
