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
    boundary by kind    a boundary's cost by the kind of layer it enters (separable, standard, head), and a model's
    and elements        that, and an element's cost, fitted
    each kind scaled    each kind's entries times a factor of its own, and a model's constant

The last three are corrections `dsdnas lut` does not make: tried here before they are built
(a kind is a layer key's first word: stem, sep, std, head).

It also prints the floor under any prediction: each candidate's whole time, measured
again, against its first figure.

    python benchmarks/bench_lut_fit.py [--runtime onnxruntime] [--candidates 60] [--calibrate 20] [--threads 1]
    python benchmarks/bench_lut_fit.py --quick     # dsd-tiny, 8 candidates, torch (CI)
    python benchmarks/bench_lut_fit.py --save rows.json     # keep the timings; --load rows.json fits them again

Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
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
        total, kinds, entered = 0.0, {}, {}
        for index, layer in enumerate(arch_layers(arch)):
            torch.manual_seed(0)
            entry_ms = _time(table, layer.build(), layer.input_shape, device=CPU).p50_ms
            kind = layer.key.split("_")[0]  # stem, sep, std, head
            total += entry_ms
            kinds[kind] = kinds.get(kind, 0.0) + entry_ms
            if index:  # the boundary before this layer
                entered[kind] = entered.get(kind, 0) + 1
        rows.append(
            {
                "notation": arch.notation,
                "layers": len(arch_layers(arch)),
                "handed": handoff_elements(arch),
                "sum_ms": total,
                "kind_ms": kinds,
                "entered": entered,
                "measured_ms": whole_ms(table, arch, CPU),
            }
        )
    return rows


class KindFit:
    """A correction by layer kind, least squares on each candidate's relative error (as `_fit._plane`):
    whole = sum - sum over kinds of (boundaries entering it) x its cost [- handed x an element's] + model, or
    (`scaled`) whole = sum over kinds of its entries x its factor + model."""

    def __init__(self, rows: list[dict], kinds: list[str], *, scaled: bool = False, elements: bool = False) -> None:
        self.kinds, self.scaled, self.elements = kinds, scaled, elements
        weights = torch.tensor([1.0 / row["measured_ms"] for row in rows], dtype=torch.float64)
        design = torch.tensor([self._columns(row) for row in rows], dtype=torch.float64) * weights[:, None]
        target = torch.tensor([self._target(row) for row in rows], dtype=torch.float64) * weights
        self.solution = torch.linalg.lstsq(design, target[:, None], driver="gelsd").solution.flatten().tolist()

    def _columns(self, row: dict) -> list[float]:
        if self.scaled:
            return [row["kind_ms"].get(kind, 0.0) for kind in self.kinds] + [1.0]
        handed = [-row["handed"] / 1e6] if self.elements else []
        return [-row["entered"].get(kind, 0) for kind in self.kinds] + handed + [1.0]

    def _target(self, row: dict) -> float:
        return row["measured_ms"] if self.scaled else row["measured_ms"] - row["sum_ms"]

    def predict(self, row: dict) -> float:
        fitted = sum(c * x for c, x in zip(self.solution, self._columns(row), strict=True))
        return max(0.0, fitted if self.scaled else row["sum_ms"] + fitted)


def _errors(rows: list[dict], identity_ms: float, calibrate: int, splits: int) -> dict[str, list[float]]:
    draw, errors = random.Random(SEED), {}
    kinds = sorted({kind for row in rows for kind in row["kind_ms"]})
    entered = sorted({kind for row in rows for kind in row["entered"]})
    for _ in range(splits):
        order = draw.sample(range(len(rows)), len(rows))
        fit, held = [rows[i] for i in order[:calibrate]], [rows[i] for i in order[calibrate:]]
        predictors = {
            name: lambda row, constants=constants: predict_row(row, constants)
            for name, constants in {
                "plain sum": (0.0, 0.0),
                "identity": identity_constants(fit, identity_ms),
                "two constants": fit_constants(fit, identity_ms, elements=False),
                "fitted": fit_constants(fit, identity_ms),
            }.items()
        }
        predictors["boundary by kind"] = KindFit(fit, entered).predict
        predictors["and elements"] = KindFit(fit, entered, elements=True).predict
        predictors["each kind scaled"] = KindFit(fit, kinds, scaled=True).predict
        for name, predict in predictors.items():
            predicted = [predict(row) for row in held]
            errors.setdefault(name, []).append(mape(predicted, [row["measured_ms"] for row in held]))
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--space", default=DEFAULT_SPACE)
    parser.add_argument("--runtime", default="onnxruntime")
    parser.add_argument("--candidates", type=int, default=60)
    parser.add_argument("--calibrate", type=int, default=20)
    parser.add_argument("--splits", type=int, default=300)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads the runtime runs with (default: all)")
    parser.add_argument("--save", help="write the timings (rows, the identity's call, the floor) to this JSON file")
    parser.add_argument("--load", help="fit the timings of an earlier --save instead of timing anew")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.space, args.runtime, args.candidates, args.calibrate, args.splits = "dsd-tiny", "torch", 8, 4, 20
    if args.load:
        with open(args.load) as saved:
            timings = json.load(saved)
        print(f"# bench_lut_fit: the timings of {args.load} ({timings['header']})")
    else:
        timings = _time_all(args)
    rows, identity_ms, floor = timings["rows"], timings["identity_ms"], timings["floor"]
    if args.save:
        with open(args.save, "w") as saved:
            json.dump(timings, saved)
    print(f"  fit on {args.calibrate} drawn at random, error on the other {len(rows) - args.calibrate}:")
    for name, values in _errors(rows, identity_ms, args.calibrate, args.splits).items():
        ordered = sorted(values)
        low, high = ordered[len(ordered) // 10], ordered[9 * len(ordered) // 10]
        print(f"  {name:17} MAPE median {statistics.median(values):6.1%}  (p10 {low:.1%}, p90 {high:.1%})")
    call, model, element_ns = fit_constants(rows, identity_ms)
    print(
        f"  fitted to all: {call * 1000:.1f} us a layer boundary, {element_ns:.2f} ns an element handed between "
        f"layers, {model * 1000:+.1f} us a model"
    )
    print(f"  the floor: each candidate timed whole again reads {floor:.1%} off its first figure")


def _time_all(args: argparse.Namespace) -> dict:
    """The candidates' layers and wholes timed, each whole again for the floor, and an identity's call."""
    machine = machine_info(CPU)
    header = f"{time.strftime('%Y-%m-%d %H:%M')} on {machine['cpu']} ({machine['cpus']} CPUs)"
    print(f"# bench_lut_fit {header}")
    shape = (1, 28, 28)
    threads = args.threads or cpu_count()
    table = LatencyTable(device="cpu", runtime=args.runtime, threads=threads, input_shape=shape, num_classes=10)
    space = get_space(args.space)
    drawn = sample_archs(space, table.input_shape, table.num_classes, count=3 * args.candidates, seed=SEED)
    archs = [arch for arch in drawn if not _cannot_run(table, arch)][: args.candidates]
    started = time.perf_counter()
    identity_ms = _time(table, nn.Identity(), table.input_shape, device=CPU).p50_ms
    rows = _timed(table, archs)
    again = [whole_ms(table, arch, CPU) for arch in archs]
    print(
        f"{args.space}, {args.runtime} {table.threads} thread(s): {len(rows)} candidates timed layer by layer and "
        f"whole in {time.perf_counter() - started:.0f} s; an identity's call {identity_ms * 1000:.1f} us"
    )
    floor = mape(again, [row["measured_ms"] for row in rows])
    return {
        "header": f"{header}, {args.space}, {args.runtime}, {threads} thread(s)",
        "rows": rows,
        "identity_ms": identity_ms,
        "floor": floor,
    }


def _cannot_run(table: LatencyTable, arch) -> bool:
    """onnxruntime cannot export some candidates (a pool head whose grid does not divide the map)."""
    try:
        RUNTIMES[table.runtime].prepare(build_model(arch).eval(), torch.zeros((1, *arch.input_shape)), 1)
    except UnsupportedModel:
        return True
    return False


if __name__ == "__main__":
    main()
