"""Oracle tests: the profiler's MACs and params equal the analytic formulas."""

import itertools

import pytest
import torch
from torch import nn

from dsdnas.nas.arch import conv_output_size
from dsdnas.nas.blocks import SeparableBlock, StandardBlock
from dsdnas.nas.builder import build_model
from dsdnas.nas.profile import count_macs, count_params, measure_latency, percentile

SIZE = 16  # input height and width


def analytic(kind: str, c_in: int, c_out: int, k: int, stride: int) -> tuple[int, int]:
    """(MACs, params) of one block: conv multiply-adds; conv weights plus BatchNorm's 2 per channel."""
    out = conv_output_size(SIZE, stride) ** 2
    if kind == "standard":
        return out * c_out * c_in * k * k, c_in * c_out * k * k + 2 * c_out
    depthwise = out * c_in * k * k
    pointwise = out * c_in * c_out
    return depthwise + pointwise, c_in * k * k + 2 * c_in + c_in * c_out + 2 * c_out


GRID = list(itertools.product(("standard", "separable"), (1, 3, 5, 7), (1, 2, 3), (1, 2), ((1, 8), (8, 16), (12, 12))))


@pytest.mark.parametrize(("kind", "kernel", "dilation", "stride", "channels"), GRID)
def test_block_macs_and_params_equal_the_analytic_count(kind, kernel, dilation, stride, channels):
    c_in, c_out = channels
    block_class = StandardBlock if kind == "standard" else SeparableBlock
    block = block_class(c_in, c_out, kernel, dilation=dilation, stride=stride)
    macs, params = analytic(kind, c_in, c_out, kernel, stride)
    assert count_macs(block, (c_in, SIZE, SIZE)).macs == macs
    assert count_params(block) == params
    # Padding d*(k-1)/2: stride 1 keeps the size, stride 2 halves it (rounded up).
    out = block(torch.zeros(1, c_in, SIZE, SIZE))
    assert out.shape[-1] == conv_output_size(SIZE, stride)


def test_whole_model_macs_add_up(small_arch):
    model = build_model(small_arch)
    stem = 28 * 28 * 16 * 9
    b0 = 14 * 14 * 16 * 9 + 14 * 14 * 16 * 32
    b1 = 14 * 14 * 32 * 32 * 9
    b2 = 7 * 7 * 32 * 25 + 7 * 7 * 32 * 64
    head = 64 * 10
    result = count_macs(model, small_arch.input_shape)
    assert result.macs == stem + b0 + b1 + b2 + head
    assert result.unsupported_ops == {}  # residual adds are known to be free


def test_unsupported_ops_are_collected_not_printed(capsys):
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)

        def forward(self, x):
            return torch.cumsum(self.conv(x), dim=1)

    result = count_macs(Odd(), (1, 8, 8))
    assert result.macs == 6 * 6 * 2 * 9
    assert "aten::cumsum" in result.unsupported_ops
    captured = capsys.readouterr()
    assert "cumsum" not in captured.out + captured.err


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
