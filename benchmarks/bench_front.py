"""The front's cheap end: what the default space finds on Fashion-MNIST, against a linear classifier and an MLP.

For each seed, one after the other, and for each source tree given (today's main beside
this checkout, say), it runs the tree's own `dsdnas search` with its default space on
Fashion-MNIST from Debian's dataset-fashion-mnist (the first images of the training
split: --train-limit 5120 --val-fraction 0.25, so 3,840 train and 1,280 validate), for a
wall-time budget, then trains the linear and MLP references on the run's own split with
the search's recipe (3 epochs, no label smoothing, no shifts), with this checkout's
`dsdnas baseline` whatever tree searched. Trees are interleaved
within each seed. It prints:

- each run's front: validation accuracy, MACs and params of every member, and the best
  accuracy of all candidates trained to the end in each decade of MACs (where the front
  stops is where more MACs stop buying accuracy);
- the decades of MACs the front spans (log10 of its dearest over its cheapest member);
- its hypervolume on one fixed scale: 1 - accuracy against log10 MACs placed on [0, 1]
  over 1k..100M MACs, reference point (1, 1), by Optuna's hypervolume;
- for each reference, whether a front member has at most its MACs and at least its
  accuracy (dominates it);
- per tree, the median hypervolume and decades over the seeds, with their range.

    python benchmarks/bench_front.py                                  # 3 seeds x 180 s, this checkout
    python benchmarks/bench_front.py --tree main=/path/to/main/src --tree new=src
    python benchmarks/bench_front.py --tree plain=src --tree spread=src@DSDNAS_FIRST_SPREAD=3
    python benchmarks/bench_front.py --quick      # 1 seed x 10 s on 1,024 images, under a minute (CI)
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from optuna._hypervolume import compute_hypervolume  # Optuna's own hypervolume

ROOT = Path(__file__).resolve().parents[1]
LOW_MACS, HIGH_MACS = 1e3, 1e8  # the fixed scale's MACs range
REFERENCES = (["--model", "linear"], ["--model", "mlp"])
SAME_RECIPE = ["--epochs", "3", "--label-smoothing", "0", "--no-augment", "--device", "cpu"]


def dsdnas(tree: Path, *args: str, env: dict[str, str] | None = None) -> None:
    """Run the dsdnas of source tree `tree` (its src folder) as a fresh process."""
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(tree), "DSDNAS_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "dsdnas", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"dsdnas {' '.join(args[:2])} failed in {tree}: {done.stderr.strip()[-400:]}")


def hypervolume(front: list[dict]) -> float:
    losses = [
        [1.0 - row["accuracy"], math.log10(row["macs"] / LOW_MACS) / math.log10(HIGH_MACS / LOW_MACS)] for row in front
    ]
    return float(compute_hypervolume(np.array(losses), np.array([1.0, 1.0]))) if losses else 0.0


def one_run(tree: tuple[Path, dict[str, str]], seed: int, args: argparse.Namespace, out: Path) -> dict:
    started = time.monotonic()
    dsdnas(tree[0], "search", "--dataset", "fashion-mnist", "--train-limit", str(args.train_limit),
           "--val-fraction", "0.25", "--budget", args.budget, "--seed", str(seed), "--device", "cpu",
           "--out", str(out), "--quiet", env=tree[1])  # fmt: skip
    search_s = time.monotonic() - started
    for reference in REFERENCES:  # by this checkout's dsdnas, which has them, on every tree's run
        dsdnas(ROOT / "src", "baseline", str(out), *reference, *SAME_RECIPE, "--seed", str(seed))
    front = json.loads((out / "pareto.json").read_text())["trials"]
    with open(out / "trials.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    trained = [(float(r["macs"]), float(r["accuracy"])) for r in rows if r["status"] == "trained"]
    trials = len(rows)
    references = [json.loads(path.read_text()) for path in sorted((out / "baselines").glob("*/metrics.json"))]
    return {"front": front, "references": references, "search_s": search_s, "trials": trials, "trained": trained}


def report(name: str, seed: int, run: dict) -> dict:
    front = sorted(run["front"], key=lambda row: row["macs"])
    decades = math.log10(front[-1]["macs"] / front[0]["macs"]) if front else 0.0
    volume = hypervolume(front)
    print(f"\n{name}, seed {seed}: {run['trials']} trials in {run['search_s']:.0f} s; front of {len(front)}, "
          f"{decades:.2f} decades of MACs, hypervolume {volume:.4f}")  # fmt: skip
    for row in front:
        print(f"  trial {row['trial']:>3}  {100 * row['accuracy']:6.2f}%  {row['macs']:>11,} MACs  "
              f"{row['params']:>9,} params  {row['notation']}")  # fmt: skip
    decade_best = {}
    for macs, accuracy in run["trained"]:  # every candidate trained to the end, on the front or not
        decade = int(math.log10(macs))
        decade_best[decade] = max(decade_best.get(decade, 0.0), accuracy)
    print("  best trained accuracy by MACs decade: " + ", ".join(
        f"1e{d}-1e{d + 1}: {100 * a:.2f}% ({sum(int(math.log10(m)) == d for m, _ in run['trained'])} trained)"
        for d, a in sorted(decade_best.items())
    ))  # fmt: skip
    dominated = {}
    for reference in run["references"]:
        wins = [r for r in front if r["macs"] <= reference["macs"] and r["accuracy"] >= reference["accuracy"]]
        dominated[reference["model"]] = bool(wins)
        by = f"dominated by trial {wins[0]['trial']}" if wins else "NOT dominated"
        print(f"  {reference['model']:>8}: {100 * reference['accuracy']:6.2f}% at {reference['macs']:,} MACs: {by}")
    return {"decades": decades, "hypervolume": volume, "dominated": dominated}


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.4f} (range {min(values):.4f}-{max(values):.4f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--budget", default="180s")
    parser.add_argument("--train-limit", type=int, default=5120)
    parser.add_argument(
        "--tree",
        action="append",
        default=[],
        help="NAME=PATH of a src folder, then @KEY=VALUE environment settings; default: this checkout",
    )
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.budget, args.train_limit = "0", "10s", 1024
    trees = {}
    for item in args.tree or [f"this={ROOT / 'src'}"]:
        name, _, spec = item.partition("=")
        path, *settings = spec.split("@")
        trees[name] = (Path(path).resolve(), dict(setting.split("=", 1) for setting in settings))
    results: dict[str, list[dict]] = {name: [] for name in trees}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-front-") as folder:
        for seed in (int(s) for s in args.seeds.split(",")):
            for name, tree in trees.items():  # interleaved: each seed sees every tree in turn
                run = one_run(tree, seed, args, Path(folder) / f"{name}-{seed}")
                results[name].append(report(name, seed, run))
    print(
        f"\nsummary ({args.budget} per search, --train-limit {args.train_limit}, {time.monotonic() - started:.0f} s):"
    )
    for name, runs in results.items():
        everything = sum(all(run["dominated"].values()) for run in runs)
        print(f"  {name}: hypervolume {spread([r['hypervolume'] for r in runs])}; decades "
              f"{spread([r['decades'] for r in runs])}; front dominates both references on {everything} of "
              f"{len(runs)} seeds")  # fmt: skip


if __name__ == "__main__":
    main()
