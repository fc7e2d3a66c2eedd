"""The probe's reference, pooled over the processes that timed latency on this machine.

Each process measures the probe's reference once (`speed.py`), as the fastest of its
window medians over about 5 s, and scales every figure it records by it. Alone, that
reference moves from one process to the next, and every figure of the process with it:
the machine's fast state does not come in every 5 s. So each process's reference is kept
in the per-user cache, and a process scales by the median of the last KEEP processes'
references, its own included: a search, its fine-tune and a later `dsdnas profile` share
one reference once a few processes have run. In 16 fresh processes in a row
(benchmarks/bench_reference.py, two runs) the references spread 20.5% and 16.6% alone and
7.6% and 1.8% pooled, and a model's figures over the processes 36.6% and 41.6% (median of 8
models) against 27.6% and 32.2%. The median, not the fastest: a new fastest reference
would step every later figure down (in a run with the fastest of the last KEEP, the
figures spread 39.5% against 37.0% alone).

The references are kept by host, CPU, thread count, runtime and its package versions, and
PROBE, so a change to any of them starts afresh. A cache that cannot be read or written
leaves the process with its own reference, as before.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from dsdnas.errors import ResourceError
from dsdnas.nas.files import cache_dir, write_json
from dsdnas.nas.hardware import cpu_model, hostname
from dsdnas.nas.model.runtimes import runtime_versions

KEEP = 16  # processes whose references are pooled: enough for a steady median, few enough to follow the machine
PROBE = 1  # the probe's model and the reference's windows: raise it when either changes, so old references are dropped
KEYS = 64  # machine keys kept: containers that get a new host name each run would otherwise grow the file
FILE = "speed_reference.json"


def pooled(kept: list[float], own_ms: float) -> tuple[float, list[float]]:
    """(reference, kept): the median to scale by, of the latest KEEP references with `own_ms` last, and them."""
    kept = [*kept, own_ms][-KEEP:]
    return statistics.median(kept), kept


def machine_key(threads: int, runtime: str) -> str:
    """What a reference holds for: the probe timed on this host and CPU, in these threads, runtime and versions."""
    versions = ",".join(f"{package} {version}" for package, version in sorted(runtime_versions(runtime).items()))
    return f"{hostname()}|{cpu_model()}|threads {threads}|{runtime} ({versions})|probe {PROBE}"


def shared_reference(own_ms: float, threads: int, runtime: str) -> float:
    """The reference this process scales by: `own_ms` pooled with those kept in the cache, which it joins."""
    path, key = cache_dir() / FILE, machine_key(threads, runtime)
    table = _read(path)
    kept = [float(ms) for ms in table.get(key, {}).get("references_ms", [])]
    reference, kept = pooled(kept, own_ms)
    table[key] = {"references_ms": kept, "used": time.time()}
    for stale in sorted(table, key=lambda other: table[other]["used"])[:-KEYS]:
        del table[stale]
    try:
        write_json(path, table)
    except (OSError, ResourceError):  # a read-only home or a full disk: the process keeps its own reference
        return own_ms
    return reference


def _read(path: Path) -> dict[str, dict]:
    """The kept references by machine key; empty where the file is missing, unreadable or not ours."""
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
        for entry in table.values():
            float(entry["used"])  # a time, or the entry is not ours
            if not all(float(ms) > 0 for ms in entry["references_ms"]):
                raise ValueError(entry)
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return {}
    return table
