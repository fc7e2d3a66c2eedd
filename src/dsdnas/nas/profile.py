"""Honest cost numbers for a model: MACs, parameters, receptive field, latency, memory.

MACs come from fvcore, whose "flop" is one multiply-add. We count the multiply-adds of
conv and linear layers, the convention of the NAS literature: BatchNorm (folded into the
conv at inference), activations, residual adds and pooling are left out, so the figure
equals the analytic count. Latency is the median (and p90) of timed forward passes
after warm-up, with CUDA synchronized around each one.

This is the only module that imports fvcore.
"""

from __future__ import annotations

import statistics
import time
import warnings
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

with warnings.catch_warnings():  # fvcore scripts a helper with torch.jit at import time
    warnings.simplefilter("ignore", FutureWarning)
    from fvcore.nn import FlopCountAnalysis

# fvcore's per-operator keys that are multiply-adds of conv and linear layers; it also
# counts batch_norm and pooling, which we leave out.
_MAC_OPERATORS = ("conv", "linear", "matmul", "addmm", "bmm", "einsum")
# Ops without an fvcore handle that cost no multiply-adds: residual adds, activations.
_FREE_OPS = frozenset(
    f"aten::{name}{suffix}" for name in ("add", "hardswish", "silu", "gelu", "hardtanh") for suffix in ("", "_")
)


@dataclass(frozen=True)
class MacCount:
    """Multiply-adds for one input sample, and the ops fvcore could not count."""

    macs: int
    unsupported_ops: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Latency:
    """Forward-pass times in milliseconds at one batch size."""

    batch_size: int
    p50_ms: float
    p90_ms: float
    repeats: int
    warmup: int
    device: str
    threads: int
    peak_memory_mb: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def count_params(model: nn.Module) -> int:
    """Trainable and BatchNorm affine parameters (buffers excluded)."""
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, input_shape: tuple[int, ...]) -> MacCount:
    """MACs of one forward pass on one sample of `input_shape` (C, H, W)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    sample = torch.zeros((1, *input_shape), device=device)
    analysis = FlopCountAnalysis(model, (sample,))
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    # fvcore traces with torch.jit, which warns of its deprecation on every call.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            by_operator = analysis.by_operator()
            unsupported = {op: int(n) for op, n in analysis.unsupported_ops().items() if op not in _FREE_OPS}
    finally:
        model.train(was_training)
    macs = sum(int(by_operator.get(name, 0)) for name in _MAC_OPERATORS)
    return MacCount(macs=macs, unsupported_ops=unsupported)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def percentile(values: list[float], fraction: float) -> float:
    """Linear-interpolated percentile of `values` (fraction in [0, 1])."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@torch.inference_mode()
def measure_latency(
    model: nn.Module,
    input_shape: tuple[int, ...],
    batch_size: int = 1,
    warmup: int = 10,
    repeats: int = 30,
    device: torch.device | str | None = None,
) -> Latency:
    """Time `repeats` forward passes after `warmup` untimed ones; median and p90 in ms."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    sample = torch.rand((batch_size, *input_shape), device=device)
    for _ in range(warmup):
        model(sample)
    _synchronize(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times_ms = []
    for _ in range(repeats):
        _synchronize(device)
        start = time.perf_counter()
        model(sample)
        _synchronize(device)
        times_ms.append((time.perf_counter() - start) * 1000.0)
    peak_mb = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    model.train(was_training)
    return Latency(
        batch_size=batch_size,
        p50_ms=statistics.median(times_ms),
        p90_ms=percentile(times_ms, 0.9),
        repeats=repeats,
        warmup=warmup,
        device=str(device),
        threads=torch.get_num_threads(),
        peak_memory_mb=peak_mb,
    )
