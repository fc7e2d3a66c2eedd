"""Early stopping against plain TPE and random sampling, at equal wall time.

Each method searches the same data and space for the same wall-clock budget, once per
seed: plain TPE (--early-stop off), TPE with Pareto-aware early stopping (on), and random
sampling. Hypervolume is measured on one fixed, shared scale: 1 - accuracy, and the MACs
placed on the space's exact log range (log10 MACs from its cheapest to its dearest
candidate, scaled to [0, 1]), with reference point (1, 1); only candidates trained to the
full epochs count, as on the front. Printed:

- hypervolume against wall time (the median over seeds) at tenths of the budget;
- the median and IQR of each method's final hypervolume;
- the time each method needs to reach plain TPE's median final hypervolume (median over
  seeds; a seed that never reaches it counts as the whole budget);
- the wrong-stop rate: stopped candidates retrained to the full epochs (same seed, data and
  schedule as the search would have used), and how many would have joined their run's front.

It writes bench_search.html, a plotly chart of the curves (median and IQR band).

    python benchmarks/bench_search.py            # 5 seeds x 3 methods x 60 s, about 17 minutes on 2 cores
    python benchmarks/bench_search.py --quick    # 2 seeds x 3 methods x 12 s, under 2 minutes
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import optuna
import torch
from optuna._hypervolume import compute_hypervolume  # Optuna's own hypervolume

import dsdnas
from dsdnas.api.config import SearchConfig
from dsdnas.nas.datasets.device_data import to_device
from dsdnas.nas.datasets.sources import limit_train, load_dataset
from dsdnas.nas.model.arch import Arch
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.search.records import Status, records
from dsdnas.nas.training.trainer import TrainConfig, Trainer
from dsdnas.search_spaces import get_space

METHODS = {
    "tpe": {"sampler": "tpe", "early_stop": "off"},
    "tpe+early-stop": {"sampler": "tpe", "early_stop": "on"},
    "random": {"sampler": "random", "early_stop": "off"},
}


def normalized(accuracy: float, macs: float, low: float, high: float) -> list[float]:
    return [1.0 - accuracy, math.log10(macs / low) / math.log10(high / low)]


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
    reached = [hv for t, hv in points if t <= seconds]
    return max(reached) if reached else 0.0


def reach_time(points: list[tuple[float, float]], target: float, budget: float) -> float:
    return next((t for t, hv in points if hv >= target), budget)


def run_all(args: argparse.Namespace, folder: Path) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {name: [] for name in METHODS}
    base = SearchConfig(dataset=args.dataset, space=args.space, epochs=args.epochs, device="cpu")
    for seed in range(args.seeds):
        for name, options in METHODS.items():
            config = replace(base, budget=f"{args.budget_s}s", seed=seed, out=folder / f"{name}-{seed}", **options)
            started = time.time()
            result = dsdnas.search(config=config)
            runs[name].append({"study": result.study, "started": started, "seed": seed, "run": result.run_dir})
            print(f"{name} seed {seed}: {len(result.study.trials)} trials, {result.stop_reason}")
    return runs


def wrong_stops(runs: list[dict], args: argparse.Namespace, low: float, high: float) -> tuple[int, int]:
    """(stopped candidates retrained, how many would have joined their run's front)."""
    dataset = load_dataset(args.dataset)
    data = to_device(limit_train(dataset, None, 0), torch.device("cpu"), 0.1, 0)
    sampled, joined = 0, 0
    stopped = [
        (run, r) for run in runs for r in records(run["study"]) if r.status is Status.STOPPED and not r.reused_from
    ]
    step = max(1, len(stopped) // max(args.retrain, 1))
    for run, record in stopped[::step][: args.retrain]:
        seed = run["seed"] + record.number
        model = build_model(Arch.from_dict(record.arch), seed=seed)
        trainer = Trainer(model, data, TrainConfig(epochs=args.epochs, seed=seed))
        accuracy = trainer.run().val_accuracy
        front = [(r.val_accuracy, r.macs) for r in records(run["study"]) if r.trained]
        dominated = any(a >= accuracy and m <= record.macs and (a > accuracy or m < record.macs) for a, m in front)
        sampled, joined = sampled + 1, joined + (not dominated)
        print(f"  retrained stopped trial {record.number}: {accuracy:.2%} at {record.macs:,} MACs, "
              f"{'would have joined' if not dominated else 'dominated'}")  # fmt: skip
    return sampled, joined


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
    parser.add_argument("--budget-s", type=int, default=60)
    parser.add_argument("--dataset", default="mnist-sample")
    parser.add_argument("--space", default="dsd-mnist")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--retrain", type=int, default=8)
    parser.add_argument("--chart", default="bench_search.html")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.budget_s, args.retrain = 2, 12, 2
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    bounds = get_space(args.space).cost_bounds((1, 28, 28), 10)
    low, high = bounds.min_macs, bounds.max_macs
    with tempfile.TemporaryDirectory() as folder:
        runs = run_all(args, Path(folder))
        curves = {name: [curve(r["study"], low, high, r["started"]) for r in rs] for name, rs in runs.items()}
        budget = float(args.budget_s)
        print(f"\n{args.seeds} seeds, {budget:.0f} s each, {args.space} on {args.dataset}, {args.epochs} epochs")
        print("hypervolume (median over seeds) at tenths of the budget:")
        for name, runs_curves in curves.items():
            row = [statistics.median(at(points, budget * k / 10) for points in runs_curves) for k in range(1, 11)]
            print(f"  {name:15} " + " ".join(f"{v:.3f}" for v in row))
        finals = {name: [at(points, budget) for points in rc] for name, rc in curves.items()}
        target = statistics.median(finals["tpe"])
        for name, values in finals.items():
            q1, q3 = np.percentile(values, [25, 75])
            times = [reach_time(points, target, budget) for points in curves[name]]
            print(
                f"  {name:15} final {statistics.median(values):.4f} (IQR {q1:.4f}-{q3:.4f}); reaches plain TPE's "
                f"median {target:.4f} after {statistics.median(times):.1f} s (median; {sum(t < budget for t in times)} "
                f"of {len(times)} seeds reach it)"
            )
        sampled, joined = wrong_stops(runs["tpe+early-stop"], args, low, high)
        rate = f"{joined / sampled:.0%}" if sampled else "-"
        print(
            f"wrong-stop rate: {joined} of {sampled} retrained stopped candidates would have joined the front ({rate})"
        )
        chart(curves, budget, Path(args.chart))
        print(f"chart written to {args.chart}")


if __name__ == "__main__":
    main()
