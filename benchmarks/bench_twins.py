"""Twins: when two workers sample the same architecture, is it cheaper to wait for it or to sample another?

Three workers (each one CPU thread, their own --out and hostname) share one SQLite study
over a space of six architectures, so they keep drawing the same ones: the collisions are
what is measured, so no list is enqueued. Each strategy (DSDNAS_TWINS=resample, the
default, or wait) runs the same budget in each of `--rounds` rounds, the strategies
taking turns at going first. Printed per strategy: the median and the spread (min-max)
over rounds of the wall time to the budget, the trials trained, reused and given up, and
the worker-seconds each distinct architecture trained cost (what waiting idles away).

Equal work: in each round every strategy's workers get the same seeds (`--seed` plus the
round, the same for all three workers; training seeds follow it). A worker that shares a
storage salts its sampler's seed with its pid and with the trials the study held when it
joined, and dsdnas has no option or variable to fix that salt; so each worker here runs
`dsdnas search` through `PINNED`, which salts with the worker's number instead, and the
three workers draw the same three streams under either strategy. What still differs, by
timing and by design: which worker pops the study's first (cheapest) candidate, and once
a strategy has given a twin up (one more draw) or waited for it, the later draws, and
TPE's picks after its start-up trials, which read what the other workers finished.

    python benchmarks/bench_twins.py [--budget 8] [--rounds 3] [--epochs 2] [--seed 0]
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

# `python -m dsdnas` with the sampler's seed made of --seed and BENCH_SALT (the worker's number) alone.
PINNED = """
import os, sys
import dsdnas.nas.search.study as study
from dsdnas.cli import main
make_sampler, worker = study.make_sampler, int(os.environ["BENCH_SALT"])
study.make_sampler = lambda name, seed, existing_trials, salt=0, startup_pick=None: make_sampler(
    name, seed, 0, salt=worker, startup_pick=startup_pick
)
sys.exit(main())
"""

COUNTS = ("trained", "reused", "twins")


def run(strategy: str, budget: int, epochs: int, seed: int, folder: Path) -> dict[str, float]:
    space = folder / "six.toml"
    space.write_text(SIX)
    storage = f"sqlite:///{folder / 'shared.db'}"
    started = time.monotonic()
    workers = []
    for number in range(3):
        command = [
            sys.executable, "-c", PINNED, "search", "--storage", storage, "--study", "twins",
            "--out", str(folder / f"w{number}"), "--budget", str(budget), "--space", str(space),
            "--dataset", "mnist-sample", "--epochs", str(epochs), "--seed", str(seed), "--device", "cpu", "--quiet",
        ]  # fmt: skip
        env = {
            **os.environ, "DSDNAS_TWINS": strategy, "DSDNAS_HOSTNAME": f"m{number}", "BENCH_SALT": str(number + 1),
            "OMP_NUM_THREADS": "1",
        }  # fmt: skip
        workers.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        time.sleep(0.5)
    for worker in workers:
        _, err = worker.communicate()
        if worker.returncode != 0:
            raise SystemExit(err.decode())
    wall = time.monotonic() - started
    trials = optuna.load_study(study_name="twins", storage=storage).trials
    statuses = [t.user_attrs.get("status") for t in trials]
    trained = statuses.count("trained")
    return {
        "wall_s": wall,
        "trained": trained,
        "reused": statuses.count("reused"),
        "twins": statuses.count("twin"),
        "per_arch": 3 * wall / max(trained, 1),  # worker-seconds per distinct architecture trained
    }


def spread(values: list[float], digits: int = 1) -> str:
    """The median and, in brackets, the min-max."""
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="round r's workers all get --seed + r, for each strategy")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.budget, args.epochs, args.rounds = 2, 1, 1
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    results: dict[str, list[dict[str, float]]] = {"resample": [], "wait": []}
    for round_number in range(args.rounds):
        seed = args.seed + round_number
        for strategy in in_turns(list(results), round_number):
            with tempfile.TemporaryDirectory() as folder:
                row = run(strategy, args.budget, args.epochs, seed, Path(folder))
            results[strategy].append(row)
            print(
                f"round {round_number + 1}, seed {seed}, {strategy}: {row['wall_s']:.1f} s, {row['trained']} trained, "
                f"{row['reused']} reused, {row['twins']} given up"
            )
    print(
        f"3 workers of 1 thread, budget {args.budget}, 6 architectures, {args.epochs} epochs, {args.rounds} rounds "
        f"(seeds {args.seed}-{args.seed + args.rounds - 1}, the same for both); median (min-max) over rounds"
    )
    for strategy, rows in results.items():
        counts = {key: spread([row[key] for row in rows]) for key in COUNTS}
        print(
            f"{strategy:8}: wall {spread([row['wall_s'] for row in rows])} s; per run {counts['trained']} trained, "
            f"{counts['reused']} reused, {counts['twins']} given up; "
            f"{spread([row['per_arch'] for row in rows])} worker-seconds per architecture trained"
        )


if __name__ == "__main__":
    main()
