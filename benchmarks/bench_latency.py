"""Latency on a busy machine: the old single-block median against the new rounds-and-flag method.

For a few models, each measured 3 times per condition, quiet, beside one busy process and
beside two (each a single-threaded torch loop of matrix products, like another job
training on a core), it prints:

- before: the median of 30 timed batch-1 passes after 10 warm-up ones (dsdnas 0.1);
- after: the lowest of 5 round medians, retried while unstable, flagged noisy if it stays so.

For each: the middle of the 3 figures, their spread (max/min), the ratio to the quiet
figure, and how many of the 3 were flagged noisy. A figure within 25% of quiet, or
flagged, is one a user can trust. Each model is warmed up by both methods first, and the
two take turns going first, so neither is always timed cold.

    python benchmarks/bench_latency.py [--threads 2] [--repeats 3]
    python benchmarks/bench_latency.py --quick    # one model, quiet and 1 busy, one repeat (CI)
"""

from __future__ import annotations

import argparse
import functools
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from dsdnas.nas.hardware import machine_info
from dsdnas.nas.model.arch import Arch, Block, Head, Stem
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.latency import measure_latency

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _equal_work import in_turns  # noqa: E402

MODELS = {
    "tiny separable": Arch((1, 28, 28), 10, Stem(8), (Block("separable", 3, 2, 16, 2), Block("standard", 3, 1, 32, 2))),
    "medium mixed": Arch(
        (1, 28, 28),
        10,
        Stem(16),
        (Block("separable", 3, 1, 32, 2), Block("standard", 3, 2, 32, 1, True), Block("separable", 5, 1, 64, 2)),
        Head(0.1),
    ),
    "dilated standard": Arch(
        (1, 28, 28), 10, Stem(24), (Block("standard", 5, 2, 48, 2), Block("standard", 3, 3, 96, 2))
    ),
}
# Another process training: single-threaded matrix products, the load a second dsdnas job puts on a core.
BUSY = (
    "import time, torch\ntorch.set_num_threads(1)\na = torch.randn(384, 384)\n"
    "end = time.time() + 600\nwhile time.time() < end:\n    a = torch.tanh(a @ a)\n"
)


@torch.inference_mode()
def before(model: torch.nn.Module, shape: tuple[int, ...]) -> tuple[float, bool]:
    """dsdnas 0.1: 10 warm-up passes, then the median of 30 timed ones; never flagged."""
    model.eval()
    sample = torch.rand(1, *shape)
    for _ in range(10):
        model(sample)
    times = []
    for _ in range(30):
        start = time.perf_counter()
        model(sample)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), False


def after(model: torch.nn.Module, shape: tuple[int, ...], threads: int) -> tuple[float, bool]:
    latency = measure_latency(model, shape, device="cpu", threads=threads)
    return latency.p50_ms, latency.noisy


def measure(
    condition_busy: int, threads: int, repeats: int, models: dict[str, Arch]
) -> dict[tuple[str, str], list[tuple[float, bool]]]:
    burners = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(condition_busy)]
    try:
        time.sleep(1.0 if burners else 0.0)
        results: dict[tuple[str, str], list[tuple[float, bool]]] = {}
        for name, arch in models.items():
            model = build_model(arch)
            methods = {
                "before": functools.partial(before, model, arch.input_shape),
                "after": functools.partial(after, model, arch.input_shape, threads),
            }
            for method in methods.values():
                method()  # warm-up: neither method is timed on a cold model
            for repeat in range(repeats):
                for method in in_turns(list(methods), repeat):
                    results.setdefault((name, method), []).append(methods[method]())
        return results
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one model, quiet and 1 busy, one repeat (CI)")
    args = parser.parse_args()
    models = dict(list(MODELS.items())[:1]) if args.quick else MODELS
    if args.quick:
        args.repeats = 1
    torch.set_num_threads(args.threads)
    machine = machine_info(torch.device("cpu"))
    versions = machine["versions"]
    print(f"machine: {machine['cpu']}, {machine['cpus']} CPUs, torch {versions['torch']}, {args.threads} threads")
    conditions = {"quiet": 0, "1 busy": 1} if args.quick else {"quiet": 0, "1 busy": 1, "2 busy": 2}
    table = {label: measure(busy, args.threads, args.repeats, models) for label, busy in conditions.items()}
    print(f"{'model':18} {'method':7} {'condition':9} {'median ms':>10} {'spread':>7} {'x quiet':>8} {'noisy':>6}")
    for name in models:
        for method in ("before", "after"):
            quiet = statistics.median(v for v, _ in table["quiet"][(name, method)])
            for label in conditions:
                runs = table[label][(name, method)]
                values = [v for v, _ in runs]
                middle = statistics.median(values)
                noisy = sum(flag for _, flag in runs)
                print(
                    f"{name:18} {method:7} {label:9} {middle:10.3f} {max(values) / min(values):6.2f}x "
                    f"{middle / quiet:7.2f}x {noisy:>3}/{len(runs)}"
                )


if __name__ == "__main__":
    main()
