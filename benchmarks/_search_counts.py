"""What a bench_search.py run spent: candidates evaluated and trained, its random start-up, and the fixed cost.

Read from the study's own timestamps (datetime_start, datetime_complete) against the
wall-clock second its search began (`run["started"]`).
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import optuna

from dsdnas.nas.search.records import records

COMPLETE = optuna.trial.TrialState.COMPLETE


def done_by(run: dict, seconds: float) -> tuple[int, int]:
    """Candidates evaluated, and trained to the end, in the first `seconds` of a run."""
    complete = {t.number: t.datetime_complete for t in run["study"].get_trials(deepcopy=False)}
    found = [
        r
        for r in records(run["study"])
        if r.counted and complete[r.number] is not None and complete[r.number].timestamp() - run["started"] <= seconds
    ]
    return len(found), sum(r.trained for r in found)


def startup_end(runs: list[dict]) -> str:
    """When the sampler's random start-up ended, the median over the runs: the time its `n_startup_trials`-th
    complete candidate finished. Until then TPE samples at random and no mutation is made."""
    startup = getattr(runs[0]["study"].sampler, "_n_startup_trials", None)  # TPE's; none for random or NSGA-II
    if startup is None:
        return "no start-up (not TPE)"
    ends = []
    for run in runs:
        done = sorted(
            t.datetime_complete.timestamp() for t in run["study"].get_trials(deepcopy=False, states=(COMPLETE,))
        )
        ends.append(done[startup - 1] - run["started"] if len(done) >= startup else math.inf)
    median = statistics.median(ends)
    return f"random start-up ({startup} complete) ended " + (
        f"after {median:.1f} s" if math.isfinite(median) else "later"
    )


def fixed_costs(runs: list[dict]) -> str:
    """Candidates per seed, and the median seconds per candidate outside training, trained and stopped apart.

    From the study's own timestamps: a trial's datetime_start to datetime_complete, less its
    training (train_s). It holds sampling, profiling, latency, the rung verdicts and the records."""
    evaluated, trained, fixed = [], [], {"trained": [], "stopped": []}
    for run in runs:
        found = {r.number: r for r in records(run["study"]) if r.counted and r.reused_from is None}
        evaluated.append(len(found))
        trained.append(sum(r.trained for r in found.values()))
        for trial in run["study"].get_trials(deepcopy=False):
            record = found.get(trial.number)
            if record is None or trial.datetime_complete is None:
                continue
            seconds = (trial.datetime_complete - trial.datetime_start).total_seconds() - (record.train_s or 0.0)
            fixed["trained" if record.trained else "stopped"].append(seconds)
    parts = [f"evaluated {statistics.median(evaluated):.0f}, trained {statistics.median(trained):.0f} per seed"]
    for label, values in fixed.items():
        if values:
            q1, q3 = np.percentile(values, [25, 75])
            parts.append(
                f"fixed cost {label} {statistics.median(values):.3f} s (IQR {q1:.3f}-{q3:.3f}, n={len(values)})"
            )
    return "; ".join(parts)
