"""Several workers on one PostgreSQL study against one worker, on this machine.

Each setting runs the same search (study, budget, space, epochs) with N workers that have
their own hostname (DSDNAS_HOSTNAME), --out folder and --threads, and one shared
--artifacts folder. Printed per setting: wall time, finished trials, architectures
trained twice (should be 0), and whether worker 1 could export a trial worker 2 trained.

    python benchmarks/bench_workers.py [--storage postgresql://...] [--budget 12] [--epochs 2]

Without --storage it starts a throwaway cluster with .ci/postgres (Debian's postgresql).
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import optuna

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = [(1, 2), (2, 1), (3, 1)]  # (workers, threads each) on a 2-core machine: 2, 2 and 3 threads


def run(url: str, workers: int, threads: int, args: argparse.Namespace, folder: Path) -> str:
    study = f"bench-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    processes = []
    for number in range(1, workers + 1):
        command = [
            sys.executable, "-m", "dsdnas", "search", "--storage", url, "--study", study,
            "--out", str(folder / f"{study}-w{number}"), "--budget", str(args.budget), "--threads", str(threads),
            "--artifacts", str(folder / "artifacts"), "--space", args.space, "--dataset", "mnist-sample",
            "--epochs", str(args.epochs), "--device", "cpu", "--quiet",
        ]  # fmt: skip
        env = {**os.environ, "DSDNAS_HOSTNAME": f"m{number}"}
        processes.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    for process in processes:
        _, err = process.communicate()
        if process.returncode != 0:
            raise SystemExit(err.decode())
    wall = time.monotonic() - started
    trials = optuna.load_study(study_name=study, storage=url).trials
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
    return (
        f"{workers} worker(s) x {threads} thread(s): {wall:.1f} s, {finished} finished, "
        f"{twice} architecture(s) trained twice; {export}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", default=None)
    parser.add_argument("--budget", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--space", default="dsd-mnist")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        url = args.storage
        if url is None:
            url = subprocess.run(
                [str(ROOT / ".ci" / "postgres"), "start", f"{folder}/pg", "54391"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
        try:
            print(f"budget {args.budget}, {args.space} on mnist-sample, {args.epochs} epochs, {os.cpu_count()} CPUs")
            for workers, threads in SETTINGS:
                print(run(url, workers, threads, args, Path(folder)))
        finally:
            if args.storage is None:
                subprocess.run([str(ROOT / ".ci" / "postgres"), "stop", f"{folder}/pg"], check=False)


if __name__ == "__main__":
    main()
