"""How a latency figure and its noise flag are read from timed passes: arithmetic only, no timing.

On a CPU each pass is scaled by the probe pass timed right after it (`speed.py`), and the
figure is the median of the scaled passes. What the scaling leaves is noise of the ratio
between the model and the probe, to either side, so the median holds better than the
lowest round median kept before: 6 front models each timed 12 times in one process, an
epoch of training before each, and the pairs of one model's figures within 5% of each
other were 78% against 57% (47% against 38% in a noisier run), from the same passes
(`benchmarks/bench_agreement.py`, part 3). On CUDA nothing is scaled and interference only
ever adds time (Chen & Revels 2016, the method of BenchmarkTools.jl), so the figure there
is the lowest round median. The spread of all timed passes is kept beside it (p10, p90).

A measurement is unstable when its rounds disagree, when its p90 is far above its
median, or when other processes used a large share of the machine's CPU while it ran
(read from /proc/stat by `cpu_meter.py`).
"""

from __future__ import annotations

import statistics

AGREE = 1.15  # a round agrees with the fastest when its median is within 15% of it...
AGREEING_ROUNDS = 3  # ...and this many must, or a lucky round alone would set the figure
QUIET_P90_RATIO = 1.5  # p90/p50 within the agreeing rounds on a quiet 2-core CPU: 1.0-1.3
OTHER_CPU_SHARE = 0.25  # other processes using over a quarter of the machine while timing


def percentile(values: list[float], fraction: float) -> float:
    """Linear-interpolated percentile of `values` (fraction in [0, 1])."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


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
