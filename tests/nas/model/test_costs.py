"""Oracle tests: the profiler's MACs and params equal the analytic formulas."""

import itertools
import threading
import time

import pytest
import torch
from torch import nn

from dsdnas.nas.hardware import cpu_count
from dsdnas.nas.model.analytic import analytic_costs
from dsdnas.nas.model.arch import conv_output_size
from dsdnas.nas.model.blocks import SeparableBlock, StandardBlock
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.costs import candidate_latency, count_macs, count_params, profile_costs, quiet_latency
from dsdnas.nas.model.latency import Latency
from dsdnas.nas.quiet import QuietWindows
from dsdnas.search_spaces import BUILTIN_NAMES, get_space
from tests.support import ScriptedTrial, analytic_macs, block_macs

SIZE = 16  # input height and width


def analytic_params(kind: str, c_in: int, c_out: int, k: int) -> int:
    """Conv weights plus BatchNorm's scale and shift per channel."""
    if kind == "standard":
        return c_in * c_out * k * k + 2 * c_out
    return c_in * k * k + 2 * c_in + c_in * c_out + 2 * c_out


GRID = list(itertools.product(("standard", "separable"), (1, 3, 5, 7), (1, 2, 3), (1, 2), ((1, 8), (8, 16), (12, 12))))


@pytest.mark.parametrize(("kind", "kernel", "dilation", "stride", "channels"), GRID)
def test_block_macs_and_params_equal_the_analytic_count(kind, kernel, dilation, stride, channels):
    c_in, c_out = channels
    block_class = StandardBlock if kind == "standard" else SeparableBlock
    block = block_class(c_in, c_out, kernel, dilation=dilation, stride=stride)
    assert count_macs(block, (c_in, SIZE, SIZE)).macs == block_macs(
        kind, c_in, c_out, kernel, conv_output_size(SIZE, stride)
    )
    assert count_params(block) == analytic_params(kind, c_in, c_out, kernel)
    # Padding d*(k-1)/2: stride 1 keeps the size, stride 2 halves it (rounded up).
    out = block(torch.zeros(1, c_in, SIZE, SIZE))
    assert out.shape[-1] == conv_output_size(SIZE, stride)


def test_whole_model_macs_equal_the_analytic_count(small_arch):
    result = count_macs(build_model(small_arch), small_arch.input_shape)
    assert result.macs == analytic_macs(small_arch)
    assert result.unsupported_ops == {}  # residual adds and hardswish are known to be free


@pytest.mark.parametrize("space", BUILTIN_NAMES)
def test_sampled_candidates_of_every_space_cost_what_the_formula_says(space):
    """Counted, not timed: timing has its own tests; five timings (12.6 s) were paid again by each MAC mutant."""
    rng = torch.Generator().manual_seed(3)
    for _ in range(5):
        arch = get_space(space).sample(ScriptedTrial(rng=rng), (1, 28, 28), 10)
        model = build_model(arch)
        costs = profile_costs(model, arch, torch.device("cpu"), timed=False)
        assert costs.macs == analytic_macs(arch)
        assert analytic_costs(arch) == (costs.macs, count_params(model))  # the formulas dsdnas weighs with
        assert costs.receptive_field == arch.receptive_field()


def test_a_candidate_timed_only_if_it_trains_is_counted_now_and_left_untimed(small_arch, tmp_path, monkeypatch):
    """timed=False (a search whose objectives and limits need no latency): MACs and params now, every latency
    field empty, no measuring window taken."""
    log = tmp_path / "windows.jsonl"
    monkeypatch.setenv("DSDNAS_LOCK_LOG", str(log))
    costs = profile_costs(build_model(small_arch), small_arch, torch.device("cpu"), timed=False)
    assert costs.macs == analytic_macs(small_arch) and costs.latency_source == "torch"
    latency = ("latency_ms", "latency_p10_ms", "latency_p90_ms", "latency_noisy", "latency_load", "threads")
    assert all(getattr(costs, name) is None for name in latency) and costs.latency_reason == ""
    assert not log.exists()


def test_a_candidate_is_timed_in_the_runtime_asked_for(small_arch):
    costs = profile_costs(build_model(small_arch), small_arch, torch.device("cpu"), runtime="torchscript")
    assert costs.latency_source == "torchscript" and costs.latency_ms > 0


def test_a_predicted_latency_is_recorded_as_predicted_and_nothing_is_timed(small_arch, tmp_path, monkeypatch):
    log = tmp_path / "windows.jsonl"
    monkeypatch.setenv("DSDNAS_LOCK_LOG", str(log))
    predicted = Latency(1, 0.42, 0.40, 0.45, (0.42,), 0, 0, "cpu", 4, None, None, 0, False, runtime="onnxruntime")
    source = "predicted for phone cpu, onnxruntime 4 threads (lut.json)"
    costs = profile_costs(build_model(small_arch), small_arch, torch.device("cpu"), predicted=predicted, source=source)
    assert (costs.latency_ms, costs.latency_p10_ms, costs.latency_p90_ms) == (0.42, 0.40, 0.45)
    assert (costs.threads, costs.latency_noisy, costs.latency_source) == (4, False, source)
    assert not log.exists()


def test_unsupported_ops_are_collected_not_printed(capsys, caplog):
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)
            self.spare = nn.Linear(2, 2)  # never called: fvcore would warn of it too

        def forward(self, x):
            return torch.cumsum(self.conv(x), dim=1)

    result = count_macs(Odd(), (1, 8, 8))
    assert result.macs == 6 * 6 * 2 * 9
    assert "aten::cumsum" in result.unsupported_ops
    captured = capsys.readouterr()
    assert "cumsum" not in captured.out + captured.err
    assert [record.getMessage() for record in caplog.records if record.name.startswith("fvcore")] == []


def test_a_candidates_latency_is_measured_alone_on_every_cpu_thread_and_reported_whole(small_arch, tmp_path):
    """profile_costs waits for a trainer's chunk to end (the quiet lock), times on all CPU threads with the
    stated warm-up and repeats, and carries every figure of the measurement into the costs."""
    trainer_done = []

    def trainer() -> None:
        with QuietWindows("cpu").training():
            entered.set()
            time.sleep(0.5)
        trainer_done.append(time.monotonic())

    entered = threading.Event()
    thread = threading.Thread(target=trainer)
    thread.start()
    assert entered.wait(5)
    model = build_model(small_arch)
    before, threads = time.perf_counter(), torch.get_num_threads()
    torch.set_num_threads(1)  # as a trainer may have left it: the measurement still takes every CPU thread
    try:
        costs = profile_costs(model, small_arch, torch.device("cpu"))
    finally:
        torch.set_num_threads(threads)
    spent_s = time.perf_counter() - before
    thread.join()
    measured_by = time.monotonic()
    assert trainer_done and trainer_done[0] <= measured_by - costs.latency_ms / 1000  # it waited for the chunk
    assert costs.macs == analytic_macs(small_arch) and costs.params == count_params(model)
    assert costs.threads == cpu_count() and costs.unsupported_ops == {}
    assert 0 < costs.latency_p10_ms < costs.latency_p90_ms and costs.latency_ms > 0
    assert isinstance(costs.latency_reason, str) and costs.latency_noisy == bool(costs.latency_reason)
    assert costs.latency_load is not None and costs.latency_load >= 0  # Linux: the load average is known
    assert 0.5 - 0.1 < costs.profile_s <= spent_s  # it includes the wait and all the timed passes
    assert costs.to_dict()["macs"] == costs.macs and costs.to_dict()["latency_ms"] == costs.latency_ms

    latency = quiet_latency(model, small_arch.input_shape, torch.device("cpu"), batch_size=2, repeats=15)
    assert (latency.batch_size, latency.warmup, latency.threads) == (2, 10, cpu_count())
    # The end of a search times each model with candidate_latency's defaults: batch 1, as every table says.
    at_end = candidate_latency(model, small_arch.input_shape, torch.device("cpu"))
    assert (at_end.batch_size, at_end.warmup, at_end.threads) == (1, 10, cpu_count())
    assert latency.repeats >= 15  # more when a pass is quick: each round lasts at least ROUND_MIN_S
    assert len(latency.rounds_ms) == 5
