"""How far the probe's reference, and so every latency figure, moves from one process to the next.

Each latency figure is a model's pass scaled by (the probe's reference / the probe's pass
after it) (`nas/model/speed.py`); the reference is measured once per process, as the
fastest of REFERENCE_WINDOWS window medians spread out in time. A reference taken while the
machine sits in its slow state for longer than those windows last is slow itself, and
every figure the process records reads that much higher: on 2026-12-07 the same torch
candidates read 1.4x in one process what they read in the next.

This starts --processes fresh processes one after another. Each times the probe as
`SpeedProbe.reference_ms` does (warm-up, then windows of REFERENCE_PASSES passes with
REFERENCE_GAP_S between them), --windows of them, and reports the reference it would take
with the first N windows, for each N of --lengths. It prints, for each N, about how many seconds
that takes and the references over the processes: lowest, highest, and the spread (highest /
lowest - 1), which is how far two processes' figures of one model can differ from the
reference alone. Then each process times --models candidates of the default space (the
same ones in every process) against its own reference, and the parent prints, for each N,
how far each model's figures spread over the processes (highest / lowest - 1; median and
worst model): a figure is the model's passes over the probe's times the reference, so the
figure under N windows is the timed one times (reference of N / reference timed with).
Each length is read from the same windows and passes, so the lengths compare equal work.

The last row, "pooled", is what dsdnas scales by (`speed_store.py`): each process's reference of
REFERENCE_WINDOWS windows pooled with those of the processes before it (the median of the last
KEEP), kept in a cache of the benchmark's own, empty at its start as on a fresh machine. It is
read from the same passes too.

    python benchmarks/bench_reference.py [--processes 10] [--lengths 12,24,36,48,60] [--models 8] [--threads 1]
    python benchmarks/bench_reference.py --quick     # 2 processes, 12 windows (CI)

Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch

from dsdnas.nas.hardware import machine_info
from dsdnas.nas.model import speed
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.latency import measure_latency
from dsdnas.nas.model.speed_store import KEEP
from dsdnas.search_spaces import DEFAULT_SPACE, get_space, sample_archs

MODEL_SEED = 7  # the candidates every process times
CACHE = "DSDNAS_CACHE"  # where the children pool their references (speed_store.py)


def _child(count: int, models: int) -> dict:
    """One process's probe window medians, in ms, measured as the reference is; then each model's figure over
    the reference it was scaled with."""
    device = torch.device("cpu")
    probe = speed.SpeedProbe(device)
    windows = probe.windows(count)  # as reference_ms measures them
    shared = probe.keep_reference(windows)  # and as it keeps one: of dsdnas's length, pooled with earlier processes'
    archs = sample_archs(get_space(DEFAULT_SPACE), (1, 28, 28), 10, count=models, seed=MODEL_SEED)
    ratios = [measure_latency(build_model(arch), arch.input_shape, device=device).p50_ms / shared for arch in archs]
    return {"windows": windows, "ratios": ratios, "shared": shared}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=10)
    parser.add_argument("--lengths", default="12,24,36,48,60", help="Window counts to compare (the first N of each).")
    parser.add_argument("--models", type=int, default=8)
    parser.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)  # in a child: its windows and models
    parser.add_argument("--threads", type=int, help="CPU threads each process times on (default: all, as dsdnas)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.child:
        if args.threads:
            torch.set_num_threads(args.threads)
        print(json.dumps(_child(args.child, args.models)))
        return
    if args.quick:
        args.processes, args.lengths, args.models = 2, "6,12", 2
    lengths = [int(n) for n in args.lengths.split(",")]
    machine = machine_info(torch.device("cpu"))
    print(f"# bench_reference {time.strftime('%Y-%m-%d %H:%M')} on {machine['cpu']} ({machine['cpus']} CPUs)")
    passes, gap = speed.REFERENCE_PASSES, speed.REFERENCE_GAP_S
    print(f"# dsdnas takes {speed.REFERENCE_WINDOWS} windows of {passes} probe passes, {gap} s apart")
    print(f"# each process times on {args.threads or 'every'} CPU thread(s)")
    references: dict[str, list[float]] = {}  # per reference rule, per process
    figures: dict[str, list[list[float]]] = {}  # per reference rule, per process, per model
    with tempfile.TemporaryDirectory() as cache:  # the children pool their references here, as on a fresh machine
        for process in range(args.processes):
            child = [sys.executable, __file__, "--child", str(max(lengths)), "--models", str(args.models)]
            child += ["--threads", str(args.threads)] if args.threads else []
            run = subprocess.run(child, check=True, capture_output=True, text=True, env={**os.environ, CACHE: cache})
            found = json.loads(run.stdout)
            own = {f"{n} windows": min(found["windows"][:n]) for n in lengths}
            for rule, reference in {**own, "pooled (dsdnas)": found["shared"]}.items():
                references.setdefault(rule, []).append(reference)
                figures.setdefault(rule, []).append([ratio * reference for ratio in found["ratios"]])
            print(f"process {process + 1}: " + "  ".join(f"{r}: {v[-1] * 1000:6.1f} us" for r, v in references.items()))
    # Whether a process moves all its models together (its state) or each model alone (noise): each process's
    # median over the models of figure / that model's median figure.
    for rule in (f"{speed.REFERENCE_WINDOWS} windows", "pooled (dsdnas)"):
        if rule in figures:
            shifts = " ".join(f"{shift:.2f}" for shift in _shifts(figures[rule]))
            print(f"each process's models over their medians, {rule}: {shifts}")
    # About how long a reference of N windows takes: its passes (each at about the fastest window median's pass)
    # and the gaps; warm-up and the gaps' overshoot left out.
    pass_ms = statistics.median(min(r) for r in references.values())
    print(f"\n{'reference':>16} {'seconds':>8} {'lowest':>9} {'highest':>9} {'spread':>7}   a model's figures' spread")
    for rule, values in references.items():
        n = int(rule.split()[0]) if rule[0].isdigit() else min(speed.REFERENCE_WINDOWS, max(lengths))
        seconds = n * (speed.REFERENCE_PASSES * pass_ms / 1000 + speed.REFERENCE_GAP_S)
        spreads = sorted(max(model) / min(model) - 1 for model in zip(*figures[rule], strict=True))
        low, high = min(values), max(values)
        print(
            f"{rule:>16} {seconds:8.1f} {low * 1000:6.1f} us {high * 1000:6.1f} us {high / low - 1:7.1%}   "
            f"median {statistics.median(spreads):.1%}, worst {spreads[-1]:.1%} ({len(spreads)} models)"
        )
    windows = min(speed.REFERENCE_WINDOWS, max(lengths))
    print(f"pooled: each process scales by the median {windows}-window reference of the last {KEEP}")


def _shifts(by_process: list[list[float]]) -> list[float]:
    """Each process's median, over the models, of its figure over that model's median figure."""
    medians = [statistics.median(model) for model in zip(*by_process, strict=True)]
    return [statistics.median(f / m for f, m in zip(row, medians, strict=True)) for row in by_process]


if __name__ == "__main__":
    main()
