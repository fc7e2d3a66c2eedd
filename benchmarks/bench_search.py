"""Early stopping and mutations against plain TPE, at equal wall time.

Each method searches the same data and space for the same wall-clock budget, once per
seed, the methods in turn within each seed: plain TPE (--early-stop off); TPE with
Pareto-aware early stopping at whole epochs on validation accuracy (--early-stop epochs,
the default before rungs in steps); with two rungs in steps (on, the default before
once); with one rung keeping half (once); either with mutations of front members
(--sampler tpe+mutate; with once, the default); and random sampling. `--cuts 60` also reads every run at
its first 60 s: a seeded search cut there is the search a 60 s budget would have run
(only candidates finished by then count), so one run gives both budgets.
Hypervolume is measured on one fixed, shared scale: 1 - accuracy, and the MACs placed on
the space's exact log range (log10 MACs from its cheapest to its dearest candidate,
scaled to [0, 1]), with reference point (1, 1); only candidates trained to the full
epochs count, as on the front. Printed:

- hypervolume against wall time (the median over seeds) at tenths of the budget;
- the median and IQR of each method's final hypervolume, each seed's, and each method
  against the yardstick seed by seed (_paired.py: on how many seeds it ends ahead, the
  mean difference with a bootstrap interval, the sign-flip test's p), since a median over
  5 seeds moves between sets of seeds by more than the methods differ;
- the time each method needs to reach the yardstick's (plain TPE's) median final
  hypervolume (median over seeds; a seed that never reaches it counts as the whole budget);
- both again scored on the test split: the front each search chose on validation, its
  members at their test accuracy (_test_front.py). Only these compare a method that
  validates on another split (`tpe+early-stop/once/val0.25`). A test-scored curve can
  fall (a newcomer pushes a member off the validation front), so its reach time is the
  first crossing;
- the candidates evaluated and trained to the end (median per seed), when the random
  start-up ended (the 10th complete candidate, median; until then TPE samples at random
  and no mutation is made), and the fixed cost per candidate: its trial's time in the
  study (datetime_start to datetime_complete) less its training, median over the trained
  and over the stopped ones apart;
- the wrong-stop rate of each early-stopping method: stopped candidates (16, spread over
  the seeds) retrained to the full epochs (same seed, data and schedule as the search
  would have used), and how many would have joined their run's front.

It writes bench_search.html, a plotly chart of the curves (median and IQR band).

    python benchmarks/bench_search.py            # 5 seeds x 3 methods x 60 s, about 17 minutes on 2 cores
    python benchmarks/bench_search.py --dataset fashion-mnist --train-limit 5120 --val-fraction 0.25
    python benchmarks/bench_search.py --quick    # 1 seed x 3 methods x 4 s, under a minute (CI)
    python benchmarks/bench_search.py --budget-s 180 --cuts 60   # 180 s searches, also read at their first 60 s
    python benchmarks/bench_search.py --methods tpe+early-stop,tpe+early-stop/shown   # what TPE should see

`--methods` picks the methods; the first is the yardstick whose median final hypervolume
the others must reach. `tpe+early-stop/shown` is early stopping with Optuna's plain TPE,
shown the stopped candidates as PRUNED trials (sampler_views.py); dsdnas's TPE never
sees them. `tpe+mutate/start5+early-stop/once` is the default with a random start-up of 5
complete candidates instead of 10 (sampler_views.py); `tpe+mutate+synflow+early-stop/once`
the default with its start-up candidates picked by synflow (`--sampler tpe+mutate+synflow`).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import optuna
from _equal_work import in_turns
from _paired import paired_line
from _search_counts import done_by, fixed_costs, startup_end
from _test_front import accuracies_on_test, curve_on_test, normalized
from optuna._hypervolume import compute_hypervolume  # Optuna's own hypervolume
from sampler_views import early_start, shown_stopped

import dsdnas
from dsdnas.api._prepare import prepare
from dsdnas.api.config import SearchConfig
from dsdnas.nas.model.arch import Arch
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.search.records import Status, records
from dsdnas.nas.stats import wilson_interval
from dsdnas.nas.training.trainer import Trainer
from dsdnas.search_spaces import get_space

METHODS = {
    "tpe": {"sampler": "tpe", "early_stop": "off"},
    "tpe+early-stop/epochs": {"sampler": "tpe", "early_stop": "epochs"},
    "tpe+early-stop": {"sampler": "tpe", "early_stop": "on"},
    "tpe+early-stop/once": {"sampler": "tpe", "early_stop": "once"},
    "tpe+mutate+early-stop": {"sampler": "tpe+mutate", "early_stop": "on"},
    "tpe+mutate+early-stop/once": {"sampler": "tpe+mutate", "early_stop": "once"},
    "random": {"sampler": "random", "early_stop": "off"},
    # The default with a larger validation split: a quarter of the training images, not --val-fraction's.
    "tpe+early-stop/once/val0.25": {"sampler": "tpe", "early_stop": "once", "val_fraction": 0.25},
    # The experiments of sampler_views.py: TPE shown the stopped candidates as PRUNED trials; a start-up of 5.
    "tpe+early-stop/shown": {"sampler": "tpe", "early_stop": "on"},
    "tpe+mutate/start5+early-stop/once": {"sampler": "tpe+mutate", "early_stop": "once"},
    "tpe+mutate+synflow+early-stop/once": {"sampler": "tpe+mutate+synflow", "early_stop": "once"},
}
EXPERIMENTS = {"tpe+early-stop/shown": shown_stopped, "tpe+mutate/start5+early-stop/once": early_start}
DEFAULT_METHODS = "tpe,tpe+early-stop/once,tpe+mutate+early-stop/once"  # plain TPE, the default before, the default


def curve(study: optuna.Study, low: float, high: float, started: float) -> list[tuple[float, float]]:
    """(seconds since the search began, hypervolume of the trained candidates so far) after each trained one."""
    trained = sorted((r for r in records(study) if r.trained), key=lambda r: r.number)
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    points, losses = [], []
    for record in sorted(trained, key=lambda r: trials[r.number].datetime_complete):
        losses.append(normalized(record.val_accuracy, record.macs, low, high))
        seconds = trials[record.number].datetime_complete.timestamp() - started
        points.append((seconds, compute_hypervolume(np.array(losses), np.array([1.0, 1.0]))))
    return points


def at(points: list[tuple[float, float]], seconds: float) -> float:
    """The curve's value at `seconds`: its last point by then (the test-scored curve can fall), else 0."""
    reached = [hv for t, hv in points if t <= seconds]
    return reached[-1] if reached else 0.0


def reach_time(points: list[tuple[float, float]], target: float, budget: float) -> float:
    """When the curve first reaches `target`; `budget` when it does not by then (a search's last trial ends later)."""
    return next((t for t, hv in points if hv >= target and t <= budget), budget)


def run_all(args: argparse.Namespace, folder: Path) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {name: [] for name in args.methods}
    base = SearchConfig(
        dataset=args.dataset,
        space=args.space,
        epochs=args.epochs,
        device="cpu",
        train_limit=args.train_limit,
        val_fraction=args.val_fraction,
    )
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for name in in_turns(args.methods, seed):  # each goes first or last in turn: a drift in load is shared
            options = METHODS[name]
            config = replace(
                base, budget=f"{args.budget_s}s", seed=seed, out=folder / f"{name.replace('/', '-')}-{seed}", **options
            )
            started = time.time()
            with EXPERIMENTS.get(name, contextlib.nullcontext)():
                result = dsdnas.search(config=config)
            runs[name].append({"study": result.study, "started": started, "config": config})
            print(f"{name} seed {seed}: {len(result.study.trials)} trials, {result.stop_reason}")
    return runs


def wrong_stops(runs: list[dict], retrain: int) -> tuple[int, int]:
    """(stopped candidates retrained, how many would have joined their run's front).

    Each is retrained on its own run's data split with its run's training settings and the
    seed the search gives that trial, so it gets the accuracy the full training would have.
    """
    sampled, joined = 0, 0
    stopped = [
        (run, r) for run in runs for r in records(run["study"]) if r.status is Status.STOPPED and not r.reused_from
    ]
    step = max(1, len(stopped) // max(retrain, 1))
    prepared, fronts = {}, {}  # per run: its data on the device, its trained candidates
    for run, record in stopped[::step][:retrain]:
        key = id(run)
        if key not in prepared:
            prepared[key] = prepare(run["config"])
            fronts[key] = [(r.val_accuracy, r.macs) for r in records(run["study"]) if r.trained]
        train = prepared[key].train
        config = replace(train, seed=train.seed + record.number)  # as the objective seeds it
        model = build_model(Arch.from_dict(record.arch), seed=config.seed)
        accuracy = Trainer(model, prepared[key].data, config).run().val_accuracy
        front = fronts[key]
        dominated = any(a >= accuracy and m <= record.macs and (a > accuracy or m < record.macs) for a, m in front)
        sampled, joined = sampled + 1, joined + (not dominated)
        print(f"  retrained stopped trial {record.number} (seed {run['config'].seed} run): {accuracy:.2%} at "
              f"{record.macs:,} MACs, {'would have joined' if not dominated else 'dominated'}")  # fmt: skip
    return sampled, joined


def finals_at(curves: dict[str, list], runs: dict[str, list[dict]], yardstick: str, cut: float) -> None:
    """Each method's hypervolume at `cut` seconds (median, IQR), the time it takes to reach the yardstick's
    median there, and the candidates evaluated and trained to the end by then (median per seed)."""
    finals = {name: [at(points, cut) for points in rc] for name, rc in curves.items()}
    target = statistics.median(finals[yardstick])
    for name, values in finals.items():
        q1, q3 = np.percentile(values, [25, 75])
        times = [reach_time(points, target, cut) for points in curves[name]]
        evaluated, trained = zip(*(done_by(run, cut) for run in runs[name]), strict=True)
        print(
            f"  {name:33} final {statistics.median(values):.4f} (IQR {q1:.4f}-{q3:.4f}); reaches {yardstick}'s "
            f"median {target:.4f} after {statistics.median(times):.1f} s (median; {sum(t < cut for t in times)} "
            f"of {len(times)} seeds reach it); {statistics.median(evaluated):.0f} evaluated, "
            f"{statistics.median(trained):.0f} trained by then; by seed " + " ".join(f"{v:.4f}" for v in values)
        )  # each seed's figure, so that runs on other seeds can be pooled
        if name != yardstick:
            print(f"  {'':33} " + paired_line(values, finals[yardstick], yardstick))


def chart(curves: dict[str, list[list[tuple[float, float]]]], budget: float, path: Path) -> None:
    import plotly.graph_objects as go

    grid = np.linspace(0, budget, 61)
    figure = go.Figure()
    for name, runs in curves.items():
        values = np.array([[at(points, t) for t in grid] for points in runs])
        q1, median, q3 = np.percentile(values, [25, 50, 75], axis=0)
        figure.add_trace(go.Scatter(x=grid, y=q3, line={"width": 0}, showlegend=False, hoverinfo="skip"))
        figure.add_trace(go.Scatter(x=grid, y=q1, fill="tonexty", line={"width": 0}, name=f"{name} IQR", opacity=0.3))
        figure.add_trace(go.Scatter(x=grid, y=median, name=f"{name} median", mode="lines"))
    figure.update_layout(title="Hypervolume against wall time", xaxis_title="seconds", yaxis_title="hypervolume")
    figure.write_html(str(path), include_plotlyjs=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds from this on: another run's are a replay")
    parser.add_argument("--budget-s", type=int, default=60)
    parser.add_argument("--dataset", default="mnist-sample")
    parser.add_argument("--space", default="dsd-mnist")
    parser.add_argument("--train-limit", type=int, default=None)
    parser.add_argument("--val-fraction", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--retrain", type=int, default=16, help="stopped candidates retrained per method")
    parser.add_argument("--chart", default="bench_search.html")
    parser.add_argument(
        "--cuts", default="", help="also report each run cut at these seconds, as a shorter search (e.g. 60)"
    )
    choices = ", ".join(METHODS)
    parser.add_argument("--methods", default=DEFAULT_METHODS, help=f"comma-separated, first the yardstick: {choices}")
    args = parser.parse_args()
    args.methods = args.methods.split(",")
    args.cuts = [float(cut) for cut in args.cuts.split(",") if cut]
    if unknown := [name for name in args.methods if name not in METHODS]:
        parser.error(f"--methods: unknown {', '.join(unknown)}; choose from {choices}")
    if args.quick:
        args.seeds, args.budget_s, args.retrain, args.cuts = 1, 4, 1, [2.0]
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    bounds = get_space(args.space).cost_bounds((1, 28, 28), 10)
    low, high = bounds.min_macs, bounds.max_macs
    with tempfile.TemporaryDirectory() as folder:
        runs = run_all(args, Path(folder))
        curves = {name: [curve(r["study"], low, high, r["started"]) for r in rs] for name, rs in runs.items()}
        budget = float(args.budget_s)
        print(
            f"\n{args.seeds} seeds from {args.first_seed}, {budget:.0f} s each, {args.space} on {args.dataset}, "
            f"{args.epochs} epochs"
        )
        print("hypervolume (median over seeds) at tenths of the budget:")
        for name, runs_curves in curves.items():
            row = [statistics.median(at(points, budget * k / 10) for points in runs_curves) for k in range(1, 11)]
            print(f"  {name:33} " + " ".join(f"{v:.3f}" for v in row))
        for cut in sorted({*args.cuts, budget}):
            if cut < budget:
                print(f"as searches of {cut:.0f} s: each run up to its first {cut:.0f} s (the same seeded run)")
            finals_at(curves, runs, args.methods[0], cut)
        tested = {name: [curve_on_test(r["study"], accuracies_on_test(r), low, high, r["started"]) for r in rs]
                  for name, rs in runs.items()}  # fmt: skip
        print("scored on the test split (the validation front's members at their test accuracy; such a curve can")
        print("fall, and 'reaches' is its first crossing):")
        for cut in sorted({*args.cuts, budget}):
            if cut < budget:
                print(f"as searches of {cut:.0f} s:")
            finals_at(tested, runs, args.methods[0], cut)
        print("candidates, the start-up (median) and the cost outside training (all seeds):")
        for name, method_runs in runs.items():
            print(f"  {name:33} {startup_end(method_runs)}; {fixed_costs(method_runs)}")
        for name in (name for name in args.methods if METHODS[name]["early_stop"] != "off"):
            print(f"wrong stops of {name}:")
            sampled, joined = wrong_stops(runs[name], args.retrain)
            rate = "-"
            if sampled:
                low_rate, high_rate = wilson_interval(joined / sampled, sampled)
                rate = f"{joined / sampled:.0%}, 95% interval {low_rate:.0%}-{high_rate:.0%}"
            print(f"  {name}: {joined} of {sampled} retrained stopped candidates would have joined the front ({rate})")
        chart(curves, budget, Path(args.chart))
        print(f"chart written to {args.chart}")


if __name__ == "__main__":
    main()
