"""The Pareto front's latencies, measured again back to back in one quiet window.

During a search each candidate is timed when it is sampled, minutes or hours apart, on a
machine whose load changes. At the end the front's members are timed again one after
the other, while no dsdnas process trains, so their latencies can be compared with each
other. The figures go to RUN/front_latency.json; the search-time ones stay in the study.
They are timed in the search's runtime; a search whose latencies a table predicted
(--latency-lut) times nothing here: the table's device is elsewhere.
"""

from __future__ import annotations

import time
from typing import Any

import optuna
import torch

from dsdnas.nas.files import read_json, write_json
from dsdnas.nas.hardware import cpu_count, hostname
from dsdnas.nas.lut import LatencySource
from dsdnas.nas.model.arch import Arch
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.latency import measure_latency
from dsdnas.nas.quiet import QuietWindows
from dsdnas.nas.runs.rundir import RunDir
from dsdnas.nas.search.results import pareto_trials


def remeasure_front(
    study: optuna.Study, run_dir: RunDir, device: torch.device, *, latency_source: LatencySource | None = None
) -> dict[str, Any]:
    """Time every front member again in one window; write and return RUN/front_latency.json's contents.

    With a table's predictions nothing is timed or written, and no trial is returned.
    """
    source = latency_source or LatencySource()
    if source.table is not None:
        return {"trials": {}}
    front = pareto_trials(study)
    measured: dict[str, Any] = {}
    with QuietWindows(device).measuring():
        for record in front:
            arch = Arch.from_dict(record.arch)
            model = build_model(arch).to(device)
            latency = measure_latency(
                model, arch.input_shape, device=device, threads=cpu_count(), runtime=source.runtime
            )
            measured[str(record.number)] = {
                "latency_ms": latency.p50_ms,
                "latency_p10_ms": latency.p10_ms,
                "latency_p90_ms": latency.p90_ms,
                "latency_noisy": latency.noisy,
                "latency_reason": latency.reason,
                "search_latency_ms": record.latency_ms,
            }
    data = {
        "host": hostname(),
        "device": str(device),
        "threads": cpu_count(),
        "runtime": source.runtime,
        "measured": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "trials": measured,
    }
    write_json(run_dir.front_latency_json, data)
    return data


def front_latency(run_dir: RunDir | None) -> dict[int, dict[str, Any]]:
    """trial -> its re-measured latency, from RUN/front_latency.json when the run has one."""
    if run_dir is None or not run_dir.front_latency_json.exists():
        return {}
    return {int(number): row for number, row in read_json(run_dir.front_latency_json)["trials"].items()}
