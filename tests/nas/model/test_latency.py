import pytest
import torch

from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.latency import measure_latency, percentile


def test_latency_reports_median_and_p90(small_arch):
    model = build_model(small_arch)
    latency = measure_latency(model, small_arch.input_shape, batch_size=2, warmup=2, repeats=7, device="cpu")
    assert latency.batch_size == 2 and latency.repeats == 7
    assert 0 < latency.p50_ms <= latency.p90_ms
    assert latency.threads == torch.get_num_threads()
    assert latency.peak_memory_mb is None  # CPU: no CUDA memory to report
    assert model.training  # the caller's mode is restored


def test_percentile_interpolates():
    assert percentile([1, 2, 3, 4, 5], 0.5) == 3
    assert percentile([0, 10], 0.9) == pytest.approx(9.0)
