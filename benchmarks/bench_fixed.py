"""Where a candidate's time outside training goes: the same real search `--rounds` times, each phase timed.

Runs `dsdnas search` in this process (mnist-sample unless `--dataset`, the default space, 3 epochs, seed 3,
`--early-stop once`, the default) with a timer around each phase a trial goes through,
once per round, each round the same search (same seed, budget and settings) in a fresh
folder. Printed for each phase: its calls over all rounds, the first call (the first round's first trial pays
for imports), the median and the per-round total of the others (each round's first call
apart: a search's first trial is its cheapest candidate), and the spread (min-max) of the
rounds' medians; then, from the study's own timestamps, each candidate's fixed cost
(datetime_start to datetime_complete, less its training), stopped and trained apart, and
in the study's later half (the reads of a study grow with it), as the median over rounds
of each round's median, with the spread; and the loop's gap between one trial's end and
the next one's start.

    python benchmarks/bench_fixed.py [--budget 20] [--rounds 3]
    python benchmarks/bench_fixed.py --dataset fashion-mnist --train-limit 5120 --val-fraction 0.25
    python benchmarks/bench_fixed.py --quick     # budget 4, 1 epoch, one round (CI)

Run it while nothing else runs.
"""

from __future__ import annotations

import argparse
import collections
import functools
import itertools
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
import dsdnas.nas.search.storage as storage
import dsdnas.nas.training.trainer as trainer
import dsdnas.search_spaces._space as space
from dsdnas.api import search
from dsdnas.nas.hardware import machine_info

# (owner, attribute, label): the phases of a trial, and the loop's work between trials.
PHASES = [
    (optuna.Study, "ask", "study.ask (a new trial)"),
    (space.SearchSpace, "sample", "sample the architecture (TPE)"),
    (storage, "write_params", "write its choices (one commit)"),
    (records.TrialRecord, "save_to", "record.save_to (one commit)"),
    (objective, "profile_costs", "profile_costs (fvcore MACs)"),
    (objective, "build_model", "build_model"),
    (trainer.Trainer, "__init__", "Trainer() (optimizer)"),
    (stages, "rung_signals", "rung signals (validation)"),
    (rungs, "judge", "rungs.judge"),
    (loop, "time_at_end", "latency at the end (one window)"),
    (objective, "write_json", "write metrics.json"),
    (optuna.Study, "tell", "study.tell"),
    (loop, "report_progress", "report_progress (trials.csv)"),
]


def timing(spent: dict[str, list[float]]) -> None:
    for owner, name, label in PHASES:
        original = getattr(owner, name, None)
        if original is None:  # code from before the phase existed (a git worktree of an older commit)
            continue

        @functools.wraps(original)
        def timed(*args, __original=original, __label=label, **kwargs):
            started = time.perf_counter()
            try:
                return __original(*args, **kwargs)
            finally:
                spent[__label].append(time.perf_counter() - started)

        setattr(owner, name, timed)


def fixed_costs(study: optuna.Study) -> dict[str, list[float]]:
    """Each candidate's fixed cost, stopped and trained apart, and in the study's later half (it grows with the
    study, which every read of it returns whole); and the loop's gap between one trial's end and the next's start."""
    found = {r.number: r for r in records.records(study)}
    costs: dict[str, list[float]] = {"stopped": [], "trained": [], "later half": [], "between trials": []}
    trials = study.get_trials(deepcopy=False)
    for trial in trials:
        record = found.get(trial.number)
        if record is None or trial.datetime_complete is None or not record.counted:
            continue
        seconds = (trial.datetime_complete - trial.datetime_start).total_seconds() - (record.train_s or 0.0)
        costs["trained" if record.trained else "stopped"].append(seconds)
        if trial.number >= len(trials) // 2:
            costs["later half"].append(seconds)
    for before, after in itertools.pairwise(trials):
        if before.datetime_complete is not None and after.datetime_start is not None:
            costs["between trials"].append((after.datetime_start - before.datetime_complete).total_seconds())
    return costs


def spread(values: list[float], scale: float = 1.0, digits: int = 1) -> str:
    """min-max of `values` times `scale`."""
    return f"{min(values) * scale:.{digits}f}-{max(values) * scale:.{digits}f}"


def print_phases(rounds: list[dict[str, list[float]]]) -> None:
    header = f"{'phase':34} {'calls':>5} {'first ms':>9} {'median ms':>10} {'rounds ms':>13} {'total s':>8}"
    print(f"{header}  (the others: each round's first call apart; rounds: min-max of their medians)")
    for _, _, label in PHASES:
        per_round = [spent[label][1:] or spent[label] for spent in rounds if spent.get(label)]
        if not per_round:
            continue
        calls = sum(len(spent.get(label, [])) for spent in rounds)
        first = next(spent[label][0] for spent in rounds if spent.get(label))
        others = [seconds for rest in per_round for seconds in rest]
        medians = [statistics.median(rest) for rest in per_round]
        total = statistics.median(sum(rest) for rest in per_round)
        print(
            f"{label:34} {calls:5d} {first * 1000:9.1f} {statistics.median(others) * 1000:10.1f} "
            f"{spread(medians, 1000):>13} {total:8.2f}"
        )


def print_fixed_costs(rounds: list[dict[str, list[float]]]) -> None:
    for kind in ("stopped", "trained", "later half", "between trials"):
        later = [costs[kind][1:] or costs[kind] for costs in rounds if costs[kind]]
        if later:
            medians = [statistics.median(values) for values in later]
            print(
                f"fixed cost, {kind}: median {statistics.median(medians):.3f} s "
                f"({spread(medians, digits=3)} over {len(medians)} rounds; n={sum(map(len, later))} in all, "
                "each round's first apart)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dataset", default="mnist-sample")
    parser.add_argument("--train-limit", type=int, default=None)
    parser.add_argument("--val-fraction", type=float, default=0.1)
    parser.add_argument("--quick", action="store_true", help="budget 4, 1 epoch, one round (CI)")
    args = parser.parse_args()
    budget, epochs, rounds = (4, 1, 1) if args.quick else (args.budget, 3, args.rounds)
    machine = machine_info(torch.device("cpu"))
    print(f"machine: {machine['cpu']}, {machine['cpus']} CPUs, torch {machine['versions']['torch']}")
    print(
        f"search: {args.dataset} (train limit {args.train_limit}, validation {args.val_fraction}), dsd-range, "
        f"budget {budget}, {epochs} epochs, seed 3, early stopping once, "
        f"{rounds} rounds of the same search"
    )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    spent: dict[str, list[float]] = collections.defaultdict(list)
    timing(spent)
    phases: list[dict[str, list[float]]] = []
    costs: list[dict[str, list[float]]] = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as work:
            result = search(
                dataset=args.dataset,
                train_limit=args.train_limit,
                val_fraction=args.val_fraction,
                budget=budget,
                epochs=epochs,
                seed=3,
                device="cpu",
                out=Path(work) / "run",
            )
            costs.append(fixed_costs(result.study))
        phases.append(dict(spent))
        spent.clear()
    print_phases(phases)
    print_fixed_costs(costs)


if __name__ == "__main__":
    main()
