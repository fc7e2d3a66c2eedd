"""Several workers on one PostgreSQL study against one worker, on this machine.

Each setting trains the same candidates: `--budget` architectures drawn once (seeded) and
enqueued, in order, in a fresh study, each trained to the end (`--early-stop off`: a rung's
verdict would depend on which candidates reached it first, so on the setting), with N
workers that have their own hostname (DSDNAS_HOSTNAME), --out folder and --threads, and
one shared --artifacts folder. The settings take turns over `--rounds`. Printed per
setting: the median wall time with its spread, the trials evaluated and trained to the end
(both should be --budget), architectures trained twice (should be 0), and whether worker 1
could export a trial worker 2 trained.

    python benchmarks/bench_workers.py [--storage postgresql://...] [--budget 12] [--epochs 2] [--rounds 3]
    python benchmarks/bench_workers.py --quick    # 3 dsd-tiny candidates, 1 epoch, 1 and 2 workers, one round (CI)

Without --storage it starts a throwaway cluster with .ci/postgres (Debian's postgresql).
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import optuna

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _equal_work import candidate_params, enqueued_study, in_turns  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = [(1, 2), (2, 1), (3, 1)]  # (workers, threads each) on a 2-core machine: 2, 2 and 3 threads


def run(url: str, workers: int, threads: int, args: argparse.Namespace, folder: Path, params: list[dict]):
    """(wall time in s, the line describing the run)."""
    study = f"bench-{uuid.uuid4().hex[:8]}"
    enqueued_study(url, study, params)
    started = time.monotonic()
    processes = []
    for number in range(1, workers + 1):
        command = [
            sys.executable, "-m", "dsdnas", "search", "--storage", url, "--study", study,
            "--out", str(folder / f"{study}-w{number}"), "--budget", str(args.budget), "--threads", str(threads),
            "--artifacts", str(folder / "artifacts"), "--space", args.space, "--dataset", "mnist-sample",
            "--epochs", str(args.epochs), "--early-stop", "off", "--device", "cpu", "--quiet",
        ]  # fmt: skip
        env = {**os.environ, "DSDNAS_HOSTNAME": f"m{number}"}
        processes.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    for process in processes:
        _, err = process.communicate()
        if process.returncode != 0:
            raise SystemExit(err.decode())
    wall = time.monotonic() - started
    trials = optuna.load_study(study_name=study, storage=url).trials
    evaluated = sum(t.state.name == "COMPLETE" for t in trials)
    finished = sum(t.user_attrs.get("status") in ("trained", "reused") and t.state.name == "COMPLETE" for t in trials)
    trained = collections.Counter(
        t.user_attrs.get("arch_hash") for t in trials if t.user_attrs.get("status") == "trained"
    )
    twice = sum(count > 1 for count in trained.values())
    export = "-"
    other = [t for t in trials if t.user_attrs.get("status") == "trained" and t.user_attrs["worker"].startswith("m2:")]
    if other:
        exported = subprocess.run(
            [sys.executable, "-m", "dsdnas", "export", str(folder / f"{study}-w1"), "--trial", str(other[0].number),
             "--storage", url, "--out", str(folder / f"{study}-export")],
            capture_output=True, text=True,
        )  # fmt: skip
        outcome = "ok" if exported.returncode == 0 else exported.stderr.strip()
        export = f"trial {other[0].number} (trained by m2) exported from w1: {outcome}"
    return wall, (
        f"{workers} worker(s) x {threads} thread(s): {wall:.1f} s, {evaluated} evaluated, "
        f"{finished} trained to the end, {twice} architecture(s) trained twice; {export}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", default=None)
    parser.add_argument("--budget", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--space", default="dsd-mnist")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0, help="draws the candidates every setting trains")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    settings = SETTINGS[:2] if args.quick else SETTINGS
    if args.quick:
        args.budget, args.epochs, args.rounds, args.space = 3, 1, 1, "dsd-tiny"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    params = candidate_params(args.space, args.budget, args.seed)
    # The cluster's folder is its own, not under the 0700 temporary folder: the server runs as postgres.
    pg_folder = tempfile.mkdtemp(prefix="dsdnas-bench-pg-")
    with tempfile.TemporaryDirectory() as folder:
        url = args.storage
        if url is None:
            url = subprocess.run(
                [str(ROOT / ".ci" / "postgres"), "start", pg_folder, "54391"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
        try:
            print(
                f"the same {args.budget} candidates of {args.space} (seed {args.seed}) on mnist-sample, "
                f"{args.epochs} epochs, {os.cpu_count()} CPUs, {args.rounds} rounds"
            )
            walls: dict[tuple[int, int], list[float]] = {setting: [] for setting in settings}
            for round_number in range(args.rounds):
                for setting in in_turns(settings, round_number):
                    wall, line = run(url, *setting, args, Path(folder), params)
                    walls[setting].append(wall)
                    print(line)
            base = statistics.median(walls[settings[0]])
            for (workers, threads), found in walls.items():
                middle = statistics.median(found)
                print(
                    f"{workers} worker(s) x {threads} thread(s): median {middle:.1f} s "
                    f"({min(found):.1f}-{max(found):.1f}), {base / middle:.2f}x 1 worker"
                )
        finally:
            if args.storage is None:
                subprocess.run([str(ROOT / ".ci" / "postgres"), "stop", pg_folder], check=False)
            shutil.rmtree(pg_folder, ignore_errors=True)


if __name__ == "__main__":
    main()
