"""How well each way of correcting a latency table's sum predicts whole candidates, with the table's drift left out.

A table's entries are timed over half an hour, its check minutes later, and on a shared
machine the runtime's own per-call cost drifts in between (ONNX Runtime's from about 8
to 15 us in one afternoon here), so `bench_lut.py`'s error mixes the correction's error
with the drift's. Here every candidate's layers are timed alone and the candidate whole,
side by side, and the corrections are compared on the same figures: --calibrate
candidates drawn at random fit each one, the others measure its error, over --splits
draws:

    plain sum       the layers' entries added up
    identity        minus an identity's call per layer boundary, plus the median of the rest
    two constants   a boundary's and a model's constants fitted to the calibration candidates (as before)
    fitted          those and an element's handed between layers, fitted (as `dsdnas lut` does, to --calibrate)

It also prints the floor under any prediction: each candidate's whole time, measured
again, against its first figure.

    python benchmarks/bench_lut_fit.py [--runtime onnxruntime] [--candidates 60] [--calibrate 20]
    python benchmarks/bench_lut_fit.py --quick     # dsd-tiny, 8 candidates, torch (CI)

Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import torch
from torch import nn

from dsdnas.nas.hardware import cpu_count, machine_info
from dsdnas.nas.lut import LatencyTable, mape
from dsdnas.nas.lut._fit import fit_constants, identity_constants, predict_row
from dsdnas.nas.lut._measure import _time, whole_ms
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.layers import arch_layers, handoff_elements
from dsdnas.nas.model.runtimes import RUNTIMES, UnsupportedModel
from dsdnas.search_spaces import DEFAULT_SPACE, get_space, sample_archs

CPU = torch.device("cpu")
SEED = 20261202  # not the table's calibration or check seeds


def _timed(table: LatencyTable, archs: list) -> list[dict]:
    rows = []
    for arch in archs:
        total = 0.0
        for layer in arch_layers(arch):
            torch.manual_seed(0)
            total += _time(table, layer.build(), layer.input_shape, device=CPU).p50_ms
        rows.append(
            {
                "layers": len(arch_layers(arch)),
                "handed": handoff_elements(arch),
                "sum_ms": total,
                "measured_ms": whole_ms(table, arch, CPU),
            }
        )
    return rows


def _errors(rows: list[dict], identity_ms: float, calibrate: int, splits: int) -> dict[str, list[float]]:
    draw, errors = random.Random(SEED), {"plain sum": [], "identity": [], "two constants": [], "fitted": []}
    for _ in range(splits):
        order = draw.sample(range(len(rows)), len(rows))
        fit, held = [rows[i] for i in order[:calibrate]], [rows[i] for i in order[calibrate:]]
        for name, constants in {
            "plain sum": (0.0, 0.0),
            "identity": identity_constants(fit, identity_ms),
            "two constants": fit_constants(fit, identity_ms, elements=False),
            "fitted": fit_constants(fit, identity_ms),
        }.items():
            predicted = [predict_row(row, constants) for row in held]
            errors[name].append(mape(predicted, [row["measured_ms"] for row in held]))
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--space", default=DEFAULT_SPACE)
    parser.add_argument("--runtime", default="onnxruntime")
    parser.add_argument("--candidates", type=int, default=60)
    parser.add_argument("--calibrate", type=int, default=20)
    parser.add_argument("--splits", type=int, default=300)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.space, args.runtime, args.candidates, args.calibrate, args.splits = "dsd-tiny", "torch", 8, 4, 20
    machine = machine_info(CPU)
    print(f"# bench_lut_fit {time.strftime('%Y-%m-%d %H:%M')} on {machine['cpu']} ({machine['cpus']} CPUs)")
    shape = (1, 28, 28)
    table = LatencyTable(device="cpu", runtime=args.runtime, threads=cpu_count(), input_shape=shape, num_classes=10)
    space = get_space(args.space)
    drawn = sample_archs(space, table.input_shape, table.num_classes, count=3 * args.candidates, seed=SEED)
    archs = [arch for arch in drawn if not _cannot_run(table, arch)][: args.candidates]
    started = time.perf_counter()
    identity_ms = _time(table, nn.Identity(), table.input_shape, device=CPU).p50_ms
    rows = _timed(table, archs)
    again = [whole_ms(table, arch, CPU) for arch in archs]
    floor = mape(again, [row["measured_ms"] for row in rows])
    print(
        f"{args.space}, {args.runtime} {table.threads} threads: {len(rows)} candidates timed layer by layer and whole "
        f"in {time.perf_counter() - started:.0f} s; an identity's call {identity_ms * 1000:.1f} us"
    )
    print(f"  fit on {args.calibrate} drawn at random, error on the other {len(rows) - args.calibrate}:")
    for name, values in _errors(rows, identity_ms, args.calibrate, args.splits).items():
        ordered = sorted(values)
        low, high = ordered[len(ordered) // 10], ordered[9 * len(ordered) // 10]
        print(f"  {name:13} MAPE median {statistics.median(values):6.1%}  (p10 {low:.1%}, p90 {high:.1%})")
    call, model, element_ns = fit_constants(rows, identity_ms)
    print(
        f"  fitted to all: {call * 1000:.1f} us a layer boundary, {element_ns:.2f} ns an element handed between "
        f"layers, {model * 1000:+.1f} us a model"
    )
    print(f"  the floor: each candidate timed whole again reads {floor:.1%} off its first figure")


def _cannot_run(table: LatencyTable, arch) -> bool:
    """onnxruntime cannot export some candidates (a pool head whose grid does not divide the map)."""
    try:
        RUNTIMES[table.runtime].prepare(build_model(arch).eval(), torch.zeros((1, *arch.input_shape)), 1)
    except UnsupportedModel:
        return True
    return False


if __name__ == "__main__":
    main()
