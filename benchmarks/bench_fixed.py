"""Where a candidate's time outside training goes: one real search, each phase timed.

Runs `dsdnas search` in this process (mnist-sample, the default space, 3 epochs, seed 3,
early stopping on) with a timer around each phase a trial goes through, and prints for
each phase its calls, the first call (the first trial pays for imports) and the median
and total of the others; then, from the study's own timestamps, each candidate's fixed
cost (datetime_start to datetime_complete, less its training), stopped and trained apart.

    python benchmarks/bench_fixed.py [--budget 20]
    python benchmarks/bench_fixed.py --quick     # budget 4, 1 epoch (CI)

Run it while nothing else runs.
"""

from __future__ import annotations

import argparse
import collections
import functools
import statistics
import tempfile
import time
from pathlib import Path

import optuna
import torch

import dsdnas.nas.search.loop as loop
import dsdnas.nas.search.objective as objective
import dsdnas.nas.search.records as records
import dsdnas.nas.search.rungs as rungs
import dsdnas.nas.search.stages as stages
import dsdnas.nas.training.trainer as trainer
import dsdnas.search_spaces._space as space
from dsdnas.api import search
from dsdnas.nas.hardware import machine_info

# (owner, attribute, label): the phases of a trial, and the loop's work between trials.
PHASES = [
    (optuna.Study, "ask", "study.ask (a new trial)"),
    (space.SearchSpace, "sample", "sample the architecture (TPE)"),
    (records.TrialRecord, "save_to", "record.save_to (one commit)"),
    (objective, "profile_costs", "profile_costs (fvcore MACs)"),
    (objective, "build_model", "build_model"),
    (trainer.Trainer, "__init__", "Trainer() (optimizer)"),
    (stages, "rung_signals", "rung signals (validation)"),
    (rungs, "judge", "rungs.judge"),
    (objective.CandidateObjective, "_time", "latency after training"),
    (objective, "write_json", "write metrics.json"),
    (optuna.Study, "tell", "study.tell"),
    (loop, "report_progress", "report_progress (trials.csv)"),
]


def timing(spent: dict[str, list[float]]) -> None:
    for owner, name, label in PHASES:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args, __original=original, __label=label, **kwargs):
            started = time.perf_counter()
            try:
                return __original(*args, **kwargs)
            finally:
                spent[__label].append(time.perf_counter() - started)

        setattr(owner, name, timed)


def fixed_costs(study: optuna.Study) -> dict[str, list[float]]:
    found = {r.number: r for r in records.records(study)}
    costs: dict[str, list[float]] = {"stopped": [], "trained": []}
    for trial in study.get_trials(deepcopy=False):
        record = found.get(trial.number)
        if record is None or trial.datetime_complete is None or not record.counted:
            continue
        seconds = (trial.datetime_complete - trial.datetime_start).total_seconds() - (record.train_s or 0.0)
        costs["trained" if record.trained else "stopped"].append(seconds)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="budget 4, 1 epoch (CI)")
    args = parser.parse_args()
    budget, epochs = (4, 1) if args.quick else (args.budget, 3)
    machine = machine_info(torch.device("cpu"))
    print(f"machine: {machine['cpu']}, {machine['cpus']} CPUs, torch {machine['versions']['torch']}")
    print(f"search: mnist-sample, dsd-range, budget {budget}, {epochs} epochs, seed 3, early stopping on")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    spent: dict[str, list[float]] = collections.defaultdict(list)
    timing(spent)
    with tempfile.TemporaryDirectory() as work:
        result = search(
            dataset="mnist-sample", budget=budget, epochs=epochs, seed=3, device="cpu", out=Path(work) / "run"
        )
        costs = fixed_costs(result.study)
    print(f"{'phase':34} {'calls':>5} {'first ms':>9} {'median ms':>10} {'total s':>8}  (the others)")
    for _, _, label in PHASES:
        calls = spent.get(label, [])
        if calls:
            rest = calls[1:] or calls
            print(
                f"{label:34} {len(calls):5d} {calls[0] * 1000:9.1f} {statistics.median(rest) * 1000:10.1f} "
                f"{sum(rest):8.2f}"
            )
    for kind, values in costs.items():
        if values:
            later = values[1:] or values
            median = statistics.median(later)
            print(f"fixed cost per {kind} candidate: median {median:.3f} s (n={len(later)}, the first apart)")


if __name__ == "__main__":
    main()
