"""Measured latency that resists a busy machine: short rounds, a robust figure, a noise flag.

On a CPU each pass is scaled by the machine's speed at that moment, read from a fixed probe
model timed right after it (`speed.py`): the machine's own slow states would otherwise set
the figure. The figure is the median of the scaled passes. What the scaling leaves is
noise of the ratio between the model and the probe, to either side, so the median holds
better than the lowest round median kept before: 6 front models each timed 12 times in
one process, an epoch of training before each, and the pairs of one model's figures within
5% of each other were 78% against 57% (47% against 38% in a noisier run), from the same
passes (`benchmarks/bench_agreement.py`, part 3). On CUDA nothing is scaled and interference only
ever adds time (Chen & Revels 2016, the method of BenchmarkTools.jl), so the figure there
is the lowest round median. The spread of all timed passes is kept beside it (p10, p90).
Any runtime of `runtimes.RUNTIMES` can be timed: the model is prepared in it once, then its
forward passes are timed alike.

A measurement is unstable when its rounds disagree, when its p90 is far above its
median, or when other processes used a large share of the machine's CPU while it ran
(read from /proc/stat). An unstable measurement waits and is taken again a few times; if
it stays unstable it is kept with `noisy = True`, never silently mixed in with the quiet
ones. CUDA is synchronized around each pass.
"""

from __future__ import annotations

import copy
import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import torch
from torch import nn

from dsdnas.interrupts import raise_if_interrupted
from dsdnas.nas.model.cpu_meter import CpuMeter
from dsdnas.nas.model.runtimes import DEFAULT_RUNTIME, measuring_device, prepare
from dsdnas.nas.model.speed import SpeedProbe

ROUNDS = 5  # short timing rounds per measurement
AGREE = 1.15  # a round agrees with the fastest when its median is within 15% of it...
AGREEING_ROUNDS = 3  # ...and this many must, or a lucky round alone would set the figure
QUIET_P90_RATIO = 1.5  # p90/p50 within the agreeing rounds on a quiet 2-core CPU: 1.0-1.3
OTHER_CPU_SHARE = 0.25  # other processes using over a quarter of the machine while timing
ATTEMPTS = 3  # measurements before a noisy one is kept, flagged
BACKOFF_S = (0.25, 1.0)  # waits between attempts, s
# A round times at least this long: 10 passes of a 0.09 ms model varied 12% from run to run. Rounds of 20 ms brought
# more pairs of one model's figures within 5% (86% against 78%, part 3) for 2.1x the time (0.73 s against 0.34 s a
# tiny model, most of it the probe's passes); the fast test suite took 376 s against 304 s. Not taken.
ROUND_MIN_S = 0.005
WARMUP_S = 0.2  # warm-up lasts at least this long: on a 2-core EPYC VM, 10 passes of a 0.3 ms model
# (3 ms) left the first rounds up to 1.7x slow, and 1 in 3 quiet measurements looked unstable.


@dataclass(frozen=True)
class Latency:
    """Forward-pass times in milliseconds at one batch size, and how quiet the machine was."""

    batch_size: int
    p50_ms: float  # the figure to report: the median pass at full speed (CPU), the lowest round median (CUDA)
    p10_ms: float  # spread of all timed passes of that attempt
    p90_ms: float
    rounds_ms: tuple[float, ...]  # every round's median
    repeats: int  # timed passes, all rounds together
    warmup: int
    device: str
    threads: int  # CPU threads torch used
    load_1m: float | None  # the system load average when measured
    other_cpu: float | None  # share of the machine's CPU others used while timing (Linux only)
    attempts: int
    noisy: bool
    reason: str = ""  # why it was unstable
    peak_memory_mb: float | None = None
    runtime: str = DEFAULT_RUNTIME  # what ran the passes (runtimes.RUNTIMES)
    speed: float | None = None  # the machine's speed against the probe's reference (speed.py); None on CUDA
    raw_p50_ms: float | None = None  # the lowest round median, not scaled by the speed

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


def _load() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def warm_up(forward: Callable[[], object], device: torch.device, warmup: int) -> float:
    """Run at least `warmup` untimed passes and WARMUP_S seconds of them; the seconds a pass took."""
    passes, started = 0, time.perf_counter()
    while passes < warmup or time.perf_counter() < started + WARMUP_S:
        forward()
        passes += 1
        if passes % 10 == 0:
            _synchronize(device)
    _synchronize(device)
    return (time.perf_counter() - started) / passes


def timed_rounds(
    forward: Callable[[], object], device: torch.device, *, rounds: int, per_round: int, probe: SpeedProbe | None
) -> tuple[list[list[float]], list[list[float]] | None]:
    """Each round's pass times, and the probe's pass timed right after each of them (None without a probe)."""
    times: list[list[float]] = []
    probes: list[list[float]] = []
    for _ in range(rounds):
        raise_if_interrupted()
        round_ms, probe_ms = [], []
        for _ in range(per_round):
            _synchronize(device)
            start = time.perf_counter()
            forward()
            _synchronize(device)
            round_ms.append((time.perf_counter() - start) * 1000.0)
            if probe is not None:
                probe_ms.append(probe.settled_pass_ms())
        times.append(round_ms)
        probes.append(probe_ms)
    return times, probes if probe is not None else None


def round_speeds(probes: list[list[float]] | None, reference_ms: float, rounds: int) -> list[float]:
    """Each round's speed: the probe's reference over its median in that round (1 without a probe)."""
    if probes is None:
        return [1.0] * rounds
    return [reference_ms / statistics.median(probe_ms) for probe_ms in probes]


def at_full_speed(times: list[list[float]], speeds: list[float]) -> list[list[float]]:
    """Each round's times as the machine at the probe's reference speed would have taken them."""
    return [[t * speed for t in round_ms] for round_ms, speed in zip(times, speeds, strict=True)]


def figure_ms(times: list[list[float]], probes: list[list[float]] | None, reference_ms: float) -> float:
    """The figure to report: with a probe, the median pass, each scaled by the probe pass timed right after it;
    without one, the lowest round median (interference only adds time)."""
    if probes is None:
        return min(statistics.median(round_ms) for round_ms in times)
    scaled = [
        t * reference_ms / probe_ms
        for round_ms, round_probes in zip(times, probes, strict=True)
        for t, probe_ms in zip(round_ms, round_probes, strict=True)
    ]
    return statistics.median(scaled)


def figure_rule(runtime: str, device: str) -> str:
    """How a figure timed in `runtime` for a model on `device` is read, in words for a report."""
    if measuring_device(runtime, torch.device(device)).type == "cuda":
        return f"the lowest of {ROUNDS} round medians"
    return "the median pass at full machine speed"


def unstable_reason(times: list[list[float]], other_cpu: float | None) -> str:
    """Why a measurement cannot be trusted, or '' when it can.

    Spikes in a round or two barely move the figure (a median, or on CUDA the lowest round
    median), so they are allowed; a figure is unstable when other processes took a large share of the CPU while it was
    timed, when too few rounds reproduce the fastest one, or when those rounds were jittery.
    """
    if other_cpu is not None and other_cpu > OTHER_CPU_SHARE:
        return f"other processes used {other_cpu:.0%} of the CPU"
    medians = [statistics.median(round_ms) for round_ms in times]
    fastest = min(medians)
    agreeing = [round_ms for round_ms, median in zip(times, medians, strict=True) if median <= AGREE * fastest]
    if len(agreeing) < min(AGREEING_ROUNDS, len(times)):
        return f"rounds disagree (only {len(agreeing)} of {len(times)} within {AGREE - 1:.0%} of the fastest)"
    steady = [t for round_ms in agreeing for t in round_ms]
    ratio = percentile(steady, 0.9) / statistics.median(steady)
    if ratio > QUIET_P90_RATIO:
        return f"p90 is {ratio:.1f}x the median"
    return ""


def measure_latency(
    model: nn.Module,
    input_shape: tuple[int, ...],
    batch_size: int = 1,
    *,
    device: torch.device | str | None = None,
    warmup: int = 10,
    repeats: int = 50,
    rounds: int = ROUNDS,
    attempts: int = ATTEMPTS,
    threads: int | None = None,
    runtime: str = DEFAULT_RUNTIME,
    sleep: Callable[[float], None] = time.sleep,
) -> Latency:
    """Time `repeats` forward passes in `rounds` rounds after `warmup` untimed ones; retry while unstable.

    The passes run in `runtime` (one of `runtimes.RUNTIMES`), prepared once from `model`.
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    target = measuring_device(runtime, device)
    if target != device:  # a CPU-only runtime times a copy: the model stays where it trains
        model, device = copy.deepcopy(model).to(target), target
    was_training, previous_threads = model.training, torch.get_num_threads()
    model.eval()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        sample = torch.rand((batch_size, *input_shape), device=device)
        forward = prepare(runtime, model, sample, threads=torch.get_num_threads())
        best: Latency | None = None
        for attempt in range(1, attempts + 1):
            with torch.inference_mode():
                latency = _attempt(
                    forward,
                    sample,
                    warmup=warmup,
                    repeats=repeats,
                    rounds=rounds,
                    attempt=attempt,
                    runtime=runtime,
                )
            best = latency if best is None or latency.p50_ms < best.p50_ms else best
            if not latency.noisy:
                return latency
            if attempt < attempts:
                sleep(BACKOFF_S[min(attempt, len(BACKOFF_S)) - 1])
        return replace(best, attempts=attempts)  # the quickest of the noisy attempts, flagged
    finally:
        model.train(was_training)
        torch.set_num_threads(previous_threads)


def _attempt(
    forward: Callable[[], object],
    sample: torch.Tensor,
    *,
    warmup: int,
    repeats: int,
    rounds: int,
    attempt: int,
    runtime: str,
) -> Latency:
    device = sample.device
    meter = CpuMeter()
    meter.start()  # over warm-up and timing: /proc/stat counts 10 ms ticks, too coarse for a few ms alone
    pass_s = warm_up(forward, device, warmup)
    per_round = max(1, repeats // rounds, math.ceil(ROUND_MIN_S / pass_s))
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    probe = SpeedProbe(device, runtime) if device.type == "cpu" else None
    reference = probe.reference_ms() if probe is not None else 1.0  # measured before timing, once per process
    raw, probes = timed_rounds(forward, device, rounds=rounds, per_round=per_round, probe=probe)
    speeds = round_speeds(probes, reference, rounds)
    times = at_full_speed(raw, speeds)  # round by round: what the spread and the noise checks read
    other = meter.share() if device.type == "cpu" else None
    every = [t for round_ms in times for t in round_ms]
    medians = [statistics.median(round_ms) for round_ms in times]
    reason = unstable_reason(times, other)
    return Latency(
        batch_size=sample.shape[0],
        p50_ms=figure_ms(raw, probes, reference),
        p10_ms=percentile(every, 0.1),
        p90_ms=percentile(every, 0.9),
        rounds_ms=tuple(medians),
        repeats=len(every),
        warmup=warmup,
        device=str(device),
        threads=torch.get_num_threads(),
        load_1m=_load(),
        other_cpu=other,
        attempts=attempt,
        noisy=bool(reason),
        reason=reason,
        peak_memory_mb=torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None,
        runtime=runtime,
        speed=statistics.median(speeds) if probe is not None else None,
        raw_p50_ms=figure_ms(raw, None, 1.0),  # the lowest round median, unscaled
    )
