"""Which signal at a rung ranks candidates as their final accuracy does.

Early stopping judges a candidate at 1/9 and 1/3 of its training steps (nas/search/rungs.py)
by one signal. This trains candidates of a space to the end on each dataset, with a
search's own data split and training settings, records at each rung every signal a
rung can rank by (validation accuracy, validation loss, and the mean training loss so
far, Ru et al.'s TSE), and prints each signal's Spearman correlation with the final
validation accuracy, with a 95% bootstrap interval over the candidates, and how many of
the finally best third the rung's best third holds. Then it replays rung rules on the same
candidates (`_rung_replay.py`): where to judge and how many to keep, against the steps
each spends and its wrong stops. Each candidate is also scored untrained by zero-cost
proxies (`_proxies.py`), and a start-up picking by each score is replayed against a
random one (`_proxy_report.py`).

    python benchmarks/bench_rank.py             # 100 candidates of dsd-range on 2 datasets, 3 epochs
    python benchmarks/bench_rank.py --save rank.csv       # also keep every candidate's signals
    python benchmarks/bench_rank.py --load rank.csv       # report and replay again, training nothing
    python benchmarks/bench_rank.py --quick     # 8 candidates of dsd-tiny on mnist-sample, 1 epoch (CI)

The datasets: mnist-sample as bundled, and Fashion-MNIST limited as bench_search.py
limits it (--train-limit 5120 --val-fraction 0.25).
"""

from __future__ import annotations

import argparse
import copy
import math
import time

import numpy as np
import pandas as pd
import torch
from _proxies import PROXIES
from _proxy_report import proxy_report
from _rung_replay import candidates_table, near_front, oracle, replay

from dsdnas.api._prepare import prepare
from dsdnas.api.config import SearchConfig
from dsdnas.nas.lut import spearman
from dsdnas.nas.model.analytic import analytic_costs
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.search.rungs import SIGNALS, schedule
from dsdnas.nas.search.stages import train_in_stages
from dsdnas.nas.training.trainer import Trainer, steps_per_epoch
from dsdnas.search_spaces import get_space, sample_archs

DATASETS = {
    "mnist-sample": {"dataset": "mnist-sample"},
    "fashion-mnist": {"dataset": "fashion-mnist", "train_limit": 5120, "val_fraction": 0.25},
}
# Each signal a rung can rank by, and one more measured here: the mean training loss of the
# recent half of the steps to the rung alone (the early, fast-falling steps left out).
CANDIDATE_SIGNALS = {**{name: spec.higher_is_better for name, spec in SIGNALS.items()}, "recent_train_loss": False}
BOOTSTRAP = 2000  # resamples of the candidates for each interval
PROXY_BATCH = 64  # training images each zero-cost score sees, the same for every candidate
PROXY_INPUT = (1, 28, 28)  # both datasets' image shape, for the space's MACs range


def bootstrap_interval(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    values = []
    for _ in range(BOOTSTRAP):
        pick = rng.integers(0, len(x), len(x))
        if len(set(x[pick])) > 1 and len(set(y[pick])) > 1:
            values.append(spearman(list(x[pick]), list(y[pick])))
    if not values:  # too few distinct candidates to resample
        return math.nan, math.nan
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def top_third_kept(signal: np.ndarray, final: np.ndarray, higher_is_better: bool) -> float:
    """Of the candidates finally in the best third, the share the rung's best third holds."""
    keep = math.ceil(len(final) / 3)
    by_signal = np.argsort(-signal if higher_is_better else signal, kind="stable")[:keep]
    best = np.argsort(-final, kind="stable")[:keep]
    return len(set(by_signal) & set(best)) / keep


def measure(name: str, args: argparse.Namespace) -> pd.DataFrame:
    """One row per candidate and rung: its signals there and its final validation accuracy."""
    config = SearchConfig(space=args.space, epochs=args.epochs, device="cpu", seed=args.seed, **DATASETS[name])
    prepared = prepare(config.validate())
    data, train = prepared.data, prepared.train
    steps = steps_per_epoch(len(data.train), train.batch_size)
    rungs = schedule("on", args.epochs, steps)
    if rungs is None:
        raise SystemExit(f"{args.epochs} epochs of {steps} steps give no rung")
    space = get_space(args.space)
    archs = sample_archs(space, data.input_shape, data.num_classes, count=args.candidates, seed=args.seed)
    # Halfway to each rung too, for the mean training loss of the recent half alone.
    halves = {step: step // 2 for step in rungs.steps}
    stops = tuple(sorted({*rungs.steps, *halves.values()}))
    shuffled = torch.randperm(len(data.train), generator=torch.Generator().manual_seed(0))
    batch = data.normalize(data.train.x[shuffled[:PROXY_BATCH]])  # the same images for every candidate
    rows, started = [], time.perf_counter()
    for index, arch in enumerate(archs):
        seen: dict[int, dict[str, float]] = {}

        def record(step: int, signals: dict[str, float], seen: dict = seen) -> bool:
            seen[step] = signals
            return True  # every candidate trains to the end

        model = build_model(arch, seed=train.seed + index)
        scores = {name: score(copy.deepcopy(model), batch) for name, score in PROXIES.items()}  # untrained
        trainer = Trainer(model, data, train)
        result, _ = train_in_stages(trainer, stops, on_epoch=lambda stats: None, goes_on=record)
        if result.failure is not None:
            continue
        macs = analytic_costs(arch)[0]
        for step in rungs.steps:
            half = halves[step]
            recent = (seen[step]["train_loss"] * step - seen[half]["train_loss"] * half) / (step - half)
            rows.append(
                {
                    "dataset": name,
                    "candidate": index,
                    "rung": rungs.key(step),
                    **seen[step],
                    "recent_train_loss": recent,
                    **scores,
                    "final": result.val_accuracy,
                    "macs": macs,
                    "epochs": args.epochs,
                    "val_images": len(data.val),
                }
            )
        if (index + 1) % 10 == 0:
            print(f"  {name}: {index + 1} of {len(archs)} trained, {time.perf_counter() - started:.0f} s")
    seconds = time.perf_counter() - started
    print(f"  {name}: {len(archs)} candidates in {seconds:.0f} s, scored on {len(data.val)} validation images")
    return pd.DataFrame(rows)


def by_signal(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """`once` replayed judging by each recorded signal: its wrong-stop rate on all the candidates and near the front."""
    rows = []
    for signal, higher_is_better in CANDIDATE_SIGNALS.items():
        if signal not in frame:
            continue
        table, keys = candidates_table(frame, int(frame["epochs"].iloc[0]), signal, higher_is_better)
        once = ("once (default): 1/9, keep 1/2",)
        everyone, near = (
            replay(group, keys, rng, rules=once)["wrong rate"].iloc[0] for group in (table, near_front(table))
        )
        rows.append({"signal": signal, "wrong rate, all": everyone, "wrong rate, near the front": near})
    return pd.DataFrame(rows)


def report(name: str, frame: pd.DataFrame, space: str, rng: np.random.Generator) -> None:
    print(f"\n{name}: Spearman with final validation accuracy (95% bootstrap interval), best third kept")
    for rung, at in frame.groupby("rung", sort=False):
        print(f"  rung at {rung} epochs, {len(at)} candidates:")
        final = at["final"].to_numpy()
        for signal, higher_is_better in CANDIDATE_SIGNALS.items():
            if signal not in at:  # a CSV saved before the signal was recorded
                continue
            values = at[signal].to_numpy() * (1 if higher_is_better else -1)  # higher: better, for all
            rho = spearman(list(values), list(final))
            if rho is None:  # under 3 candidates reached this rung
                continue
            low, high = bootstrap_interval(values, final, rng)
            kept = top_third_kept(values, final, True)
            print(f"    {signal:17} {rho:+.3f} [{low:+.3f}, {high:+.3f}]   best third kept {kept:.0%}")
    table, keys = candidates_table(frame, int(frame["epochs"].iloc[0]))
    print(f"\n{name}: rung rules replayed on these {len(table)} candidates in the same random orders")
    print(replay(table, keys, rng).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    near = near_front(table)
    print(f"\n{name}: the same rules on the {len(near)} of them in the better half by final Pareto rank,")
    print("as a sampler that proposes near the front gives them")
    print(replay(near, keys, rng).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\n{name}: once's wrong stops by the signal it judges by, on all and near the front")
    print(by_signal(frame, rng).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    bounds = get_space(space).cost_bounds(PROXY_INPUT, 10)  # both datasets have 10 classes
    proxy_report(name, frame, list(PROXIES), (bounds.min_macs, bounds.max_macs), rng)
    images = int(frame["val_images"].iloc[0])
    print(f"\n{name}: the ceiling, judging at 1/9 by the final accuracy on another split of {images} images")
    print(oracle(table, keys, images, rng).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--space", default="dsd-range")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--save", help="write every candidate's signals to this CSV")
    parser.add_argument("--load", help="report on a CSV --save wrote instead of training")
    args = parser.parse_args()
    if args.quick:
        args.candidates, args.space, args.epochs, args.datasets = 8, "dsd-tiny", 1, "mnist-sample"
    if args.load:
        loaded = pd.read_csv(args.load, dtype={"rung": str})
        frames = {name: loaded[loaded["dataset"] == name] for name in loaded["dataset"].unique()}
    else:
        frames = {name: measure(name, args) for name in args.datasets.split(",")}
    if args.save:
        pd.concat(frames.values()).to_csv(args.save, index=False)
    for name, frame in frames.items():
        # Each dataset its own draws, whatever ran before.
        report(name, frame, args.space, np.random.default_rng(args.seed))


if __name__ == "__main__":
    main()
