"""Trials per hour with --jobs 1 and --jobs 2 (or more), side by side on this machine.

Each setting trains the same candidates: a list of `--budget` architectures drawn once
(seeded), enqueued in a fresh run directory's study, which the search's workers pop in
order (the sampler is not what is measured, and workers salt their seeds), each trained to
the end (`--early-stop off`: a rung's verdict depends on which candidates reached it first,
so on the setting). Each runs through the real CLI; printed: wall time, the trials
evaluated and trained to the end (both should be --budget), and trials per hour. The
settings take turns over `--rounds` so that a change in the machine's load hits both; the
spread is printed.

    python benchmarks/bench_jobs.py [--budget 10] [--jobs 1,2] [--space dsd-mnist] [--epochs 2] [--rounds 3]
    python benchmarks/bench_jobs.py --device cuda --budget 32 --epochs 3 --jobs 1,4 --rounds 3   # one GPU
    python benchmarks/bench_jobs.py --quick    # 3 dsd-tiny candidates, 1 epoch on 600 images, one round (CI)
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _equal_work import candidate_params, enqueued_study, in_turns  # noqa: E402


def run(jobs: int, args: argparse.Namespace, folder: Path, params: list[dict]) -> tuple[float, int, int]:
    """(wall time in s, trials evaluated, trials trained to the end)."""
    out = folder / f"jobs{jobs}-{time.monotonic_ns()}"
    out.mkdir()
    enqueued_study(f"sqlite:///{out / 'study.db'}", "bench", params)
    command = [
        sys.executable, "-m", "dsdnas", "search", "--budget", str(args.budget), "--jobs", str(jobs),
        "--dataset", args.dataset, "--space", args.space, "--epochs", str(args.epochs), "--device", args.device,
        "--out", str(out), "--study", "bench", "--early-stop", "off", "--quiet",
    ]  # fmt: skip
    if args.train_limit:
        command += ["--train-limit", str(args.train_limit)]
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True)
    seconds = time.monotonic() - started
    frame = pd.read_csv(out / "trials.csv")
    return seconds, len(frame), int(frame["status"].isin(["trained", "reused"]).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=10)
    parser.add_argument("--jobs", default="1,2")
    parser.add_argument("--dataset", default="mnist-sample")
    parser.add_argument("--space", default="dsd-mnist")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--train-limit", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cpu", help="cuda: the jobs share one GPU")
    parser.add_argument("--seed", type=int, default=0, help="draws the candidates every setting trains")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.budget, args.space, args.epochs, args.train_limit, args.rounds = 3, "dsd-tiny", 1, 600, 1
    settings = [int(j) for j in args.jobs.split(",")]
    params = candidate_params(args.space, args.budget, args.seed)
    times: dict[int, list[float]] = {jobs: [] for jobs in settings}
    with tempfile.TemporaryDirectory() as folder:
        for round_number in range(args.rounds):
            for jobs in in_turns(settings, round_number):
                seconds, evaluated, trained = run(jobs, args, Path(folder), params)
                times[jobs].append(seconds)
                print(f"--jobs {jobs}: {evaluated} evaluated, {trained} trained to the end, in {seconds:.1f} s")
    base = statistics.median(times[settings[0]])
    print(
        f"the same {args.budget} candidates of {args.space} (seed {args.seed}) on {args.dataset}, "
        f"{args.epochs} epochs, {args.rounds} rounds, on {args.device}"
    )
    for jobs in settings:
        middle = statistics.median(times[jobs])
        spread = f"{min(times[jobs]):.1f}-{max(times[jobs]):.1f} s"
        print(
            f"--jobs {jobs}: median {middle:.1f} s ({spread}), {3600 * args.budget / middle:.0f} trials/hour, "
            f"{base / middle:.2f}x --jobs {settings[0]}"
        )


if __name__ == "__main__":
    main()
