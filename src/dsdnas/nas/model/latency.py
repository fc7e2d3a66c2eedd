"""Measured latency: timed forward passes after warm-up, median and p90.

CUDA is synchronized around each timed pass, so the figure is the device's time and
not the launch's. The CPU thread count in use is recorded with every figure.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass

import torch
from torch import nn


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
