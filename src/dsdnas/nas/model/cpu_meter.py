"""How much of the machine's CPU other processes used over a window, read from /proc/stat (Linux)."""

from __future__ import annotations

import os
import time

MIN_TICKS = 30  # CPU-share windows shorter than this many 10 ms ticks (all cores) say nothing


class CpuMeter:
    """How much of the machine's CPU other processes used between `start` and `share`."""

    def __init__(self) -> None:
        self.cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        self._start: tuple[int, int, float] | None = None

    @staticmethod
    def _read() -> tuple[int, int, float] | None:
        """(busy ticks of the machine, ticks of this process, monotonic seconds); None without /proc."""
        try:
            with open("/proc/stat", encoding="ascii") as stat:
                fields = [int(v) for v in stat.readline().split()[1:]]
            with open("/proc/self/stat", encoding="ascii") as own:
                parts = own.read().rsplit(")", 1)[1].split()
        except (OSError, ValueError, IndexError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait; steal counts as busy
        return sum(fields[:8]) - idle, int(parts[11]) + int(parts[12]), time.monotonic()

    def start(self) -> None:
        self._start = self._read()

    def share(self) -> float | None:
        end = self._read()
        if self._start is None or end is None:
            return None
        busy, own, seconds = (b - a for a, b in zip(self._start, end, strict=True))
        ticks = seconds * os.sysconf("SC_CLK_TCK") * self.cores
        if ticks < MIN_TICKS:
            return None  # too short a window to tell one tick of noise from load
        return max(0.0, (busy - own) / ticks)
