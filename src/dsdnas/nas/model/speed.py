"""The machine's speed while a latency is timed, read from a fixed probe model timed beside it.

On the 2-core development VM the CPU runs in two states about 1.8x apart, each lasting a
fraction of a second to a few seconds (benchmarks/bench_agreement.py): the hypervisor's
doing, not this process's. A measurement of a few hundred milliseconds falls in one of
them, so the same model timed twice read 0.8 and 1.4 ms, and a front member timed during
a search and again at its end disagreed by up to 54%, in either direction. Every model
slows by the same factor: timed pass by pass beside a fixed probe, a model's time divided
by the probe's varied 10-18% over windows where the raw times varied 80-99%.

So each timed pass of a model is followed by one timed pass of the probe (in the same
runtime), and the model's pass is scaled by (the probe's reference time / that probe
pass); the figure is the median scaled pass (`figure.figure_ms`): what the model takes
when the machine runs as fast as the probe's reference. The reference is the probe's fastest
window median among 48 spread over about 5 s, measured once per process, device and thread
count, so every figure a process records (a search's candidates, and its front and trained
models timed at its end) shares it. The machine's slow state can outlast a shorter span: with
12 windows (1.2 s) the references of 12 processes in a row spread 27-41% over three runs,
and with them every figure those processes recorded; with 48, 11-21%
(benchmarks/bench_reference.py). It can outlast 5 s too, so the process then scales by the
median reference of the machine's latest processes (`speed_store.py`): 2-8% apart. What
still moves all of a process's figures together is the model against the probe (0.92-1.18x
of their medians by process), so one model's figures spread about 30% over 16 processes:
figures compare best within one process. CUDA timings are not scaled: the probe gauges the
CPU.

The probe's timed pass comes after SETTLE_PASSES untimed ones. A probe pass right after a
model's pass runs slow itself, the more so the heavier the model (most likely its code and
data evicted from the caches), so heavy models were scaled down more than light ones: a
model 4x wider than another (16x the multiply-adds) read 3.2x the narrow one's latency
scaled against 5.3x raw at batch 8, and 1.6x against 1.8x at batch 1, on a quiet machine
(benchmarks/bench_scaling.py, 10 repeats). After two settling passes it read 5.0x and 1.8x,
as raw; each model's spread over the repeats stayed 1.1-1.3x.
"""

from __future__ import annotations

import statistics
import time

import torch
from torch import nn

from dsdnas.nas.model.runtimes import DEFAULT_RUNTIME, prepare
from dsdnas.nas.model.speed_store import shared_reference

REFERENCE_WINDOWS = 48  # windows of the probe alone, spread out, for its reference time (about 5 s in all)
REFERENCE_PASSES = 20  # probe passes per window
SETTLE_PASSES = 2  # untimed probe passes between a model's pass and the probe's timed one
REFERENCE_GAP_S = 0.1  # pause between windows: the machine's states last up to seconds
_references: dict[tuple[str, int, str], float] = {}  # (device, threads, runtime) -> the probe's reference, ms


def _probe(device: torch.device) -> tuple[nn.Module, torch.Tensor]:
    """Two small convs and a classifier on a 1x28x28 image: about 0.1-0.2 ms on one CPU core."""
    generator = torch.Generator().manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 10),
    )
    for parameter in model.parameters():
        parameter.data = torch.randn(parameter.shape, generator=generator) * 0.1
    return model.eval().to(device), torch.rand((1, 1, 28, 28), generator=generator).to(device)


class SpeedProbe:
    """The probe on one CPU device, in the runtime being timed, one pass at a time.

    In the model's own runtime, so that the two share one thread pool: an onnxruntime model
    beside a torch probe had each pool's spinning threads slow the other, and flagged 68 of
    281 layers noisy.
    """

    def __init__(self, device: torch.device, runtime: str = DEFAULT_RUNTIME) -> None:
        self.device, self.runtime = device, runtime
        model, sample = _probe(device)
        self.forward = prepare(runtime, model, sample, threads=torch.get_num_threads())

    def pass_ms(self) -> float:
        with torch.inference_mode():
            start = time.perf_counter()
            self.forward()
            return (time.perf_counter() - start) * 1000.0

    def settled_pass_ms(self) -> float:
        """One probe pass timed after SETTLE_PASSES untimed ones, so the model timed before it does not slow it."""
        for _ in range(SETTLE_PASSES):
            self.pass_ms()
        return self.pass_ms()

    def reference_ms(self) -> float:
        """The probe's fastest window median on this device, thread count and runtime, measured once per process
        and pooled with those of the machine's latest processes (`speed_store.py`)."""
        if self._reference_key() not in _references:
            self.keep_reference(self.windows(REFERENCE_WINDOWS))
        return _references[self._reference_key()]

    def keep_reference(self, windows: list[float]) -> float:
        """This process's reference from `windows` (the fastest of the first REFERENCE_WINDOWS), pooled and kept."""
        reference = shared_reference(min(windows[:REFERENCE_WINDOWS]), torch.get_num_threads(), self.runtime)
        _references[self._reference_key()] = reference
        return reference

    def _reference_key(self) -> tuple[str, int, str]:
        """What a process's reference is kept by: the device, the thread count now, and the runtime."""
        return str(self.device), torch.get_num_threads(), self.runtime

    def windows(self, count: int) -> list[float]:
        """After a warm-up, `count` window medians of REFERENCE_PASSES passes each, REFERENCE_GAP_S apart, in ms."""
        for _ in range(REFERENCE_PASSES):  # warm-up
            self.pass_ms()
        medians = []
        for _ in range(count):
            medians.append(statistics.median(self.pass_ms() for _ in range(REFERENCE_PASSES)))
            time.sleep(REFERENCE_GAP_S)
        return medians
