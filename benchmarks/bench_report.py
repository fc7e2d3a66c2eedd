"""Report speed: build the HTML report of a 300-trial study (synthesized in memory), `--rounds` times.

    python benchmarks/bench_report.py [--trials 300] [--rounds 3]
    python benchmarks/bench_report.py --quick    # 50 trials (CI)

Each round builds the report of the same study, synthesized anew from the same seed, so
every round does the same work. Printed per round, then per phase (compute the report's
data, render and write the HTML, both) the median and the spread (min-max) over rounds,
and the file's size. The first round also pays for first use (plotly's lazy imports).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import optuna

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support import add_synthetic_trials  # noqa: E402

from dsdnas.reports import build_report_data, write_report  # noqa: E402

PHASES = ("compute report data", "render and write", "total")


def one_round(trials: int) -> tuple[dict[str, float], int, int]:
    """Seconds per phase, the trials on the front and the file's size in bytes."""
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=0))
    add_synthetic_trials(study, trials)
    start = time.perf_counter()
    data = build_report_data(study, {"budget": str(trials)})
    computed = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        path = write_report(data, Path(folder) / "report.html")
        rendered = time.perf_counter()
        size = path.stat().st_size
    seconds = dict(zip(PHASES, (computed - start, rendered - computed, rendered - start), strict=True))
    return seconds, len(data.front), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.trials = 50
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    times: dict[str, list[float]] = {phase: [] for phase in PHASES}
    for round_number in range(args.rounds):
        seconds, front, size = one_round(args.trials)
        for phase in PHASES:
            times[phase].append(seconds[phase])
        print(f"round {round_number + 1}: " + ", ".join(f"{phase} {seconds[phase]:.2f} s" for phase in PHASES))
    print(f"{args.trials} trials (seed 0), {front} on the front, {args.rounds} rounds: median s (min-max)")
    for phase in PHASES:
        values = times[phase]
        print(f"{phase:20}: {statistics.median(values):6.2f} s ({min(values):.2f}-{max(values):.2f})")
    print(f"{'file size':20}: {size / 2**20:6.2f} MiB")


if __name__ == "__main__":
    main()
