"""What the probe's speed scaling does to the ratio of a heavy model's latency to a light one's.

Each figure is scaled by the machine's speed, read from a probe model timed after each
pass (`nas/model/speed.py`). A probe pass right after a heavy pass may itself run slow,
so a heavy model's figure can be scaled down more than a light one's. For a model and the
same model 4x wider (about 16x the multiply-adds), timed on a quiet machine at batch 1 and
8 with each number of untimed probe passes settling before the timed one (`--settle`,
today's SETTLE_PASSES among them), the settings and the models in turns, this prints:
the ratio wide / narrow of the scaled figures, median and range over the repeats; each
model's spread (max / min) over the repeats; its median speed factor; and the same ratio
of the raw (unscaled) figures of all settings together. Where the scaled ratio differs
from the raw one, the scaling distorts how models compare.

    python benchmarks/bench_scaling.py [--repeats 8] [--threads 1] [--settle 0,2]
    python benchmarks/bench_scaling.py --quick    # batch 1, 2 repeats (CI)
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
from pathlib import Path

import torch

from dsdnas.nas.hardware import machine_info
from dsdnas.nas.model import speed
from dsdnas.nas.model.arch import Arch, Block, Head, Stem
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.latency import measure_latency

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _equal_work import in_turns  # noqa: E402

NARROW = Arch(
    (1, 28, 28),
    10,
    Stem(16),
    (Block("separable", 3, 1, 32, 2), Block("standard", 3, 2, 32, 1, True), Block("separable", 5, 1, 64, 2)),
    Head(0.1),
)
WIDE = dataclasses.replace(NARROW, blocks=tuple(dataclasses.replace(b, channels=4 * b.channels) for b in NARROW.blocks))


def middle(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--settle", default=f"0,{speed.SETTLE_PASSES}", help="settling passes to compare")
    parser.add_argument("--quick", action="store_true", help="batch 1, 2 repeats (CI)")
    args = parser.parse_args()
    batches = (1,) if args.quick else (1, 8)
    repeats = 2 if args.quick else args.repeats
    settles = [int(n) for n in args.settle.split(",")]
    machine = machine_info(torch.device("cpu"))
    print(f"machine: {machine['cpu']}, {machine['cpus']} CPUs, torch {machine['versions']['torch']}")
    print(f"{args.threads} thread(s), {repeats} repeats, settings and models in turns")
    models = {"narrow": build_model(NARROW), "wide": build_model(WIDE)}
    print(f"{'batch':>5} {'settle':>6}  {'wide/narrow':>17}  {'spread narrow, wide':>19}  {'speed narrow, wide':>18}")
    for batch in batches:
        runs = {(settle, name): [] for settle in settles for name in models}
        for repeat in range(repeats):
            for settle in in_turns(settles, repeat):
                speed.SETTLE_PASSES = settle
                for name in in_turns(list(models), repeat):
                    latency = measure_latency(models[name], NARROW.input_shape, batch_size=batch, threads=args.threads)
                    runs[(settle, name)].append(latency)
        for settle in settles:
            narrow, wide = runs[(settle, "narrow")], runs[(settle, "wide")]
            ratio = [w.p50_ms / n.p50_ms for n, w in zip(narrow, wide, strict=True)]
            spreads = [max(r.p50_ms for r in rs) / min(r.p50_ms for r in rs) for rs in (narrow, wide)]
            speeds = [statistics.median(r.speed for r in rs) for rs in (narrow, wide)]
            print(
                f"{batch:>5} {settle:>6}  {middle(ratio):>17}  {spreads[0]:9.2f}, {spreads[1]:.2f}  "
                f"{speeds[0]:12.2f}, {speeds[1]:.2f}"
            )
        raw = [
            w.raw_p50_ms / n.raw_p50_ms
            for settle in settles
            for n, w in zip(runs[(settle, "narrow")], runs[(settle, "wide")], strict=True)
        ]
        print(f"{batch:>5} {'raw':>6}  {middle(raw):>17}")


if __name__ == "__main__":
    main()
