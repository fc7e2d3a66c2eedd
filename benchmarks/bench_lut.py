"""How well a latency table predicts whole candidates on this machine, for torch and for onnxruntime.

For each runtime it makes the table of the space's layers (`dsdnas lut`, resumed when a
table from an earlier run is in --work), then times --candidates candidates of the space
whole, drawn with their own seed (never the calibration ones), and prints each one's
predicted and measured latency, the mean absolute percentage error and Spearman's rank
correlation, for the plain sum of the layers, for the sum corrected as before (an
identity's call a layer boundary, the median of the rest a model), for the sum with a
boundary's and a model's constants fitted (before the element term) and for the table's own
three constants, all fitted to the same calibration candidates. It also prints how long
the table took, the floor under any prediction's error (the first --repeat candidates
timed whole twice more: how far each figure is from its own median), and what a search
with it spends timing candidates: nothing.

    python benchmarks/bench_lut.py [--space dsd-range] [--candidates 50] [--runtimes torch,onnxruntime]
    python benchmarks/bench_lut.py --runtimes onnxruntime --threads 1     # one thread, as `dsdnas lut --threads 1`
    python benchmarks/bench_lut.py --quick     # dsd-tiny, 8 candidates, torch only (CI)

Run it on a quiet machine: the table and the whole-model timings wait for one, and so
should nothing else.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from dsdnas.api import lut
from dsdnas.api._lut import CHECK_SEED
from dsdnas.nas.hardware import machine_info
from dsdnas.nas.lut import load_table, mape, spearman, whole_ms
from dsdnas.nas.lut._fit import fit_constants, identity_constants, predict_row
from dsdnas.nas.model.layers import handoff_elements
from dsdnas.search_spaces import DEFAULT_SPACE, get_space, sample_archs


def _measure(runtime: str, args: argparse.Namespace, work: Path) -> dict:
    out = work / f"lut-{args.space}-{runtime}.json"
    started = time.perf_counter()
    table = lut(
        spaces=(args.space,), runtime=runtime, out=out, device="cpu", calibrate=args.calibrate, threads=args.threads
    )
    build_s = time.perf_counter() - started
    space = get_space(args.space)
    archs = sample_archs(space, table.input_shape, table.num_classes, count=3 * args.candidates, seed=CHECK_SEED + 100)
    rows, unsupported, timed = [], 0, []
    for arch in archs:
        if len(rows) == args.candidates:
            break
        if table.unsupported(arch):  # onnxruntime: a pool head whose grid does not divide the map
            unsupported += 1
            continue
        timed.append(arch)
        total, count = table.layer_sum_ms(arch)
        rows.append(
            {
                "notation": arch.notation,
                "layers": count,
                "handed": handoff_elements(arch),
                "sum_ms": total,
                "predicted_ms": table.predict_ms(arch),
                "measured_ms": whole_ms(table, arch, torch.device("cpu")),
            }
        )
    return {
        "table": load_table(out),
        "build_s": build_s,
        "rows": rows,
        "unsupported": unsupported,
        "repeat": _repeatability(table, timed[: args.repeat], [row["measured_ms"] for row in rows]),
    }


def _repeatability(table, archs: list, first: list[float], rounds: int = 2) -> float | None:
    """The floor under any prediction's error: the first candidates timed whole `rounds` more times, in
    turns, and each figure's mean distance from its candidate's median."""
    figures = [[ms] for ms in first[: len(archs)]]
    for _ in range(rounds):
        for arch, timings in zip(archs, figures, strict=True):
            timings.append(whole_ms(table, arch, torch.device("cpu")))
    off = [abs(ms - statistics.median(timings)) / statistics.median(timings) for timings in figures for ms in timings]
    return statistics.fmean(off) if off else None


def _as_before(table, rows: list[dict]) -> list[float]:
    """The correction before the constants were fitted: an identity's call a layer boundary, and the median
    of what is left over the same calibration candidates."""
    call, model = identity_constants(table.calibration["rows"], table.calibration["identity_ms"])
    return [predict_row(row, (call, model)) for row in rows]


def _without_elements(table, rows: list[dict]) -> list[float]:
    """The fit before the element term: a boundary's and a model's constants, fitted to the same candidates."""
    constants = fit_constants(table.calibration["rows"], table.calibration["identity_ms"], elements=False)
    return [predict_row(row, constants) for row in rows]


def _print(runtime: str, found: dict, show: int) -> None:
    table, rows = found["table"], found["rows"]
    measured = [row["measured_ms"] for row in rows]
    plain = [row["sum_ms"] for row in rows]
    predicted = [row["predicted_ms"] for row in rows]
    before = _as_before(table, rows)
    two = _without_elements(table, rows)
    noisy = sum(entry["noisy"] for entry in table.layers.values())
    cannot = sum(bool(entry.get("unsupported")) for entry in table.layers.values())
    print(
        f"\n== {runtime}: {len(table.layers)} layers ({noisy} flagged noisy, {cannot} it cannot run), "
        f"table made in {found['build_s']:.0f} s; {found['unsupported']} sampled candidates it cannot run, left out"
    )
    print(
        f"   constants: {table.call_ms:.4f} ms a layer boundary (an identity's call: "
        f"{table.calibration['identity_ms']:.4f}), {table.element_ns or 0.0:.2f} ns an element handed between layers, "
        f"{table.model_ms:+.4f} ms a model"
    )
    print(f"   {'candidate':58} {'layers':>6} {'sum':>7} {'pred':>7} {'meas':>7} {'error':>7}")
    for row in rows[:show]:
        error = (row["predicted_ms"] - row["measured_ms"]) / row["measured_ms"]
        print(
            f"   {row['notation'][:58]:58} {row['layers']:6d} {row['sum_ms']:7.3f} {row['predicted_ms']:7.3f} "
            f"{row['measured_ms']:7.3f} {error:+7.1%}"
        )
    errors = sorted(abs(p - m) / m for p, m in zip(predicted, measured, strict=True))
    print(f"   measured whole: median {statistics.median(measured):.3f} ms, {min(measured):.3f}-{max(measured):.3f}")
    print(f"   plain sum:      MAPE {mape(plain, measured):6.1%}, Spearman {spearman(plain, measured):.3f}")
    print(f"   as before:      MAPE {mape(before, measured):6.1%}, Spearman {spearman(before, measured):.3f}")
    print(f"   no element term: MAPE {mape(two, measured):6.1%}, Spearman {spearman(two, measured):.3f}")
    print(
        f"   with constants: MAPE {mape(predicted, measured):6.1%}, Spearman {spearman(predicted, measured):.3f}, "
        f"p90 error {errors[int(0.9 * (len(errors) - 1))]:.1%}, worst {errors[-1]:.1%}  ({len(rows)} candidates)"
    )
    if found["repeat"] is not None:
        print(f"   the floor:      a candidate timed whole 3 times reads {found['repeat']:.1%} off its own median")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--space", default=DEFAULT_SPACE)
    parser.add_argument("--candidates", type=int, default=50)
    parser.add_argument("--calibrate", type=int, default=40)
    parser.add_argument("--runtimes", default="torch,onnxruntime")
    parser.add_argument("--work", type=Path, default=None, help="Keep the tables here (resumed on a rerun).")
    parser.add_argument("--show", type=int, default=12, help="Candidates printed one by one.")
    parser.add_argument("--repeat", type=int, default=12, help="Candidates timed whole twice more: the floor.")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads the runtimes run with (default: all)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.space, args.candidates, args.calibrate, args.runtimes, args.repeat = "dsd-tiny", 8, 3, "torch", 3
    machine = machine_info(torch.device("cpu"))
    print(f"# bench_lut {time.strftime('%Y-%m-%d %H:%M')} on {machine['cpu']} ({machine['cpus']} CPUs), {args.space}")
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        for runtime in args.runtimes.split(","):
            _print(runtime, _measure(runtime, args, work), args.show)
    print("\na search with --latency-lut times no candidate: its latency is the table's sum (0 s per candidate)")


if __name__ == "__main__":
    main()
