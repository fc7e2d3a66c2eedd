"""Latency timed at the end of a search, back to back in one quiet window, while nothing trains.

A search whose latency is neither an objective nor a limit (in torch, the default
runtime) times no candidate while it runs: its ranking needs no latency, and timing each
trained candidate took about 0.3 s of its fixed cost (benchmarks/bench_fixed.py). At the
end it times every candidate it trained to the end. A search that timed every candidate
before training it (latency an objective or a limit, the figures its sampler and rungs
used) times its front again. Either way the front's members are timed one after the
other here, while no dsdnas process on the machine trains, so their figures compare with
each other; and a model has one figure, this one, in trials.csv, pareto.json, `dsdnas
trials`, the report, `dsdnas export`'s model.py and its fine-tune (`end_latency.py`); the
search's own figure stays in the study beside it.

The figures go to RUN/front_latency.json (the file's name is older than the change: it held
the front alone), with the candidates an earlier end of the same study timed on this
machine and device and this one did not time again. They are timed in the search's
runtime; a search whose latencies a table predicted (--latency-lut) times nothing here:
the table's device is elsewhere.
"""

from __future__ import annotations

import time
from typing import Any

import optuna
import torch

from dsdnas.nas.files import write_json
from dsdnas.nas.hardware import hostname
from dsdnas.nas.lut import LatencySource
from dsdnas.nas.model.arch import Arch
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.costs import candidate_latency, latency_costs
from dsdnas.nas.quiet import QuietWindows
from dsdnas.nas.runs.rundir import RunDir
from dsdnas.nas.search.end_latency import SHOWN, end_latencies
from dsdnas.nas.search.records import TrialRecord, records
from dsdnas.nas.search.results import pareto_trials


def to_time_at_end(study: optuna.Study, earlier: dict[int, dict[str, Any]]) -> list[TrialRecord]:
    """The front (cheapest first), then every other candidate trained to the end that has no figure:
    none from the search, none from an earlier end."""
    front = pareto_trials(study)
    on_front = {record.number for record in front}
    untimed = [
        record
        for record in records(study, (optuna.trial.TrialState.COMPLETE,))
        if record.trained and record.latency_ms is None and record.number not in on_front | set(earlier)
    ]
    return front + untimed


def time_at_end(
    study: optuna.Study, run_dir: RunDir, device: torch.device, *, latency_source: LatencySource | None = None
) -> dict[int, dict[str, Any]]:
    """Time `to_time_at_end`'s candidates in one window; write RUN/front_latency.json and return its trials.

    With a table's predictions nothing is timed or written, and no trial is returned.
    """
    source = latency_source or LatencySource()
    if source.table is not None:
        return {}
    timed_on = (hostname(), str(device), source.runtime, source.timing_threads)
    earlier = end_latencies(run_dir, timed_on=timed_on)  # here, or timed again
    measured: dict[int, dict[str, Any]] = {}
    with QuietWindows(device).measuring():
        for record in to_time_at_end(study, earlier):
            arch = Arch.from_dict(record.arch)
            model = build_model(arch).to(device)
            latency = candidate_latency(model, arch.input_shape, device, runtime=source.runtime, threads=source.threads)
            fields = latency_costs(latency)
            measured[record.number] = {
                **{key: fields[key] for key in SHOWN},
                "latency_reason": latency.reason,
                "search_latency_ms": record.latency_ms,
                "latency_device": str(device),
                "measured": time.strftime("%Y-%m-%dT%H:%M:%S"),
            }
    timed = {**earlier, **measured}
    data = {
        "host": hostname(),
        "device": str(device),
        "threads": source.timing_threads,
        "runtime": source.runtime,
        "measured": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "trials": {str(number): timed[number] for number in sorted(timed)},
    }
    write_json(run_dir.front_latency_json, data)
    return timed
