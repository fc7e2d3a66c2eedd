"""Twins: when two workers sample the same architecture, is it cheaper to wait for it or to sample another?

Three workers (each one CPU thread, their own --out and hostname) share one SQLite study
over a space of six architectures, so they keep drawing the same ones. Each strategy
(DSDNAS_TWINS=resample, the default, or wait) runs the same budget `--rounds` times;
printed: wall time to the budget, trials trained, reused and given up, and the
worker-seconds each distinct architecture trained cost (what waiting idles away).

    python benchmarks/bench_twins.py [--budget 8] [--rounds 3] [--epochs 2]
    python benchmarks/bench_twins.py --quick    # budget 2, 1 epoch, one round (CI)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _equal_work import in_turns  # noqa: E402

SIX = (
    'name = "six"\n[stem]\nchannels = [8]\n[stages]\ncount = [1]\nblocks = [1]\nwidths = [[8, 16, 24]]\n'
    'strides = [2]\n[block]\nkind = ["standard", "separable"]\nkernel = [3]\ndilation = [1]\n'
)


def run(strategy: str, budget: int, epochs: int, folder: Path) -> dict[str, float]:
    space = folder / "six.toml"
    space.write_text(SIX)
    storage = f"sqlite:///{folder / 'shared.db'}"
    started = time.monotonic()
    workers = []
    for number in range(3):
        command = [
            sys.executable, "-m", "dsdnas", "search", "--storage", storage, "--study", "twins",
            "--out", str(folder / f"w{number}"), "--budget", str(budget), "--space", str(space),
            "--dataset", "mnist-sample", "--epochs", str(epochs), "--device", "cpu", "--quiet",
        ]  # fmt: skip
        env = {**os.environ, "DSDNAS_TWINS": strategy, "DSDNAS_HOSTNAME": f"m{number}", "OMP_NUM_THREADS": "1"}
        workers.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        time.sleep(0.5)
    for worker in workers:
        _, err = worker.communicate()
        if worker.returncode != 0:
            raise SystemExit(err.decode())
    wall = time.monotonic() - started
    trials = optuna.load_study(study_name="twins", storage=storage).trials
    statuses = [t.user_attrs.get("status") for t in trials]
    return {
        "wall_s": wall,
        "trained": statuses.count("trained"),
        "reused": statuses.count("reused"),
        "twins": statuses.count("twin"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.budget, args.epochs, args.rounds = 2, 1, 1
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    results: dict[str, list[dict[str, float]]] = {"resample": [], "wait": []}
    for round_number in range(args.rounds):
        for strategy in in_turns(list(results), round_number):
            with tempfile.TemporaryDirectory() as folder:
                results[strategy].append(run(strategy, args.budget, args.epochs, Path(folder)))
                print(strategy, results[strategy][-1])
    print(f"3 workers of 1 thread, budget {args.budget}, 6 architectures, {args.epochs} epochs, {args.rounds} rounds")
    for strategy, rows in results.items():
        walls = [row["wall_s"] for row in rows]
        mean = {key: statistics.mean(row[key] for row in rows) for key in ("trained", "reused", "twins")}
        per_arch = statistics.mean(3 * row["wall_s"] / max(row["trained"], 1) for row in rows)
        print(
            f"{strategy:8}: wall {statistics.median(walls):.1f} s ({min(walls):.1f}-{max(walls):.1f}); per run "
            f"{mean['trained']:.1f} trained, {mean['reused']:.1f} reused, {mean['twins']:.1f} given up; "
            f"{per_arch:.1f} worker-seconds per architecture trained"
        )


if __name__ == "__main__":
    main()
