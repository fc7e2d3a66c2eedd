"""Trials per hour with --jobs 1 and --jobs 2 (or more), side by side on this machine.

Each setting runs the same search (same data, space, epochs, seed and budget) in a fresh
run directory, through the real CLI, and prints its wall time and trials per hour. The
settings alternate over `--rounds` so that a change in the machine's load hits both.

    python benchmarks/bench_jobs.py [--budget 10] [--jobs 1,2] [--space dsd-mnist] [--epochs 2] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def run(jobs: int, args: argparse.Namespace, folder: Path) -> tuple[float, int]:
    out = folder / f"jobs{jobs}-{time.monotonic_ns()}"
    command = [
        sys.executable, "-m", "dsdnas", "search", "--budget", str(args.budget), "--jobs", str(jobs),
        "--dataset", args.dataset, "--space", args.space, "--epochs", str(args.epochs), "--device", "cpu",
        "--out", str(out), "--quiet",
    ]  # fmt: skip
    if args.train_limit:
        command += ["--train-limit", str(args.train_limit)]
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True)
    seconds = time.monotonic() - started
    frame = pd.read_csv(out / "trials.csv")
    return seconds, int(frame["status"].isin(["trained", "reused"]).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=10)
    parser.add_argument("--jobs", default="1,2")
    parser.add_argument("--dataset", default="mnist-sample")
    parser.add_argument("--space", default="dsd-mnist")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--train-limit", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    settings = [int(j) for j in args.jobs.split(",")]
    times: dict[int, list[float]] = {jobs: [] for jobs in settings}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.rounds):
            for jobs in settings:
                seconds, finished = run(jobs, args, Path(folder))
                times[jobs].append(seconds)
                print(f"--jobs {jobs}: {finished} trials in {seconds:.1f} s")
    base = statistics.median(times[settings[0]])
    print(f"{args.budget} trials of {args.space} on {args.dataset}, {args.epochs} epochs, {args.rounds} rounds")
    for jobs in settings:
        middle = statistics.median(times[jobs])
        spread = f"{min(times[jobs]):.1f}-{max(times[jobs]):.1f} s"
        print(
            f"--jobs {jobs}: median {middle:.1f} s ({spread}), {3600 * args.budget / middle:.0f} trials/hour, "
            f"{base / middle:.2f}x --jobs {settings[0]}"
        )


if __name__ == "__main__":
    main()
