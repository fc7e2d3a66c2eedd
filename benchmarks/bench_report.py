"""Report speed: build the HTML report of a 300-trial study (synthesized in memory).

    python benchmarks/bench_report.py [--trials 300]
    python benchmarks/bench_report.py --quick    # 50 trials (CI)

Prints the time to compute the report's data, to render the HTML, and the file size.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import optuna

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support import add_synthetic_trials  # noqa: E402

from dsdnas.reports import build_report_data, write_report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.trials = 50
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=0))
    add_synthetic_trials(study, args.trials)
    start = time.perf_counter()
    data = build_report_data(study, {"budget": str(args.trials)})
    computed = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        path = write_report(data, Path(folder) / "report.html")
        rendered = time.perf_counter()
        size = path.stat().st_size
    print(f"{args.trials} trials, {len(data.front)} on the front")
    print(f"compute report data : {computed - start:6.2f} s")
    print(f"render and write    : {rendered - computed:6.2f} s")
    print(f"total               : {rendered - start:6.2f} s")
    print(f"file size           : {size / 2**20:6.2f} MiB")


if __name__ == "__main__":
    main()
