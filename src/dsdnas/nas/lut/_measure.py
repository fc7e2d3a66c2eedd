"""Making a latency table on the target device, and checking it against candidates timed whole.

`fill_table` times each layer the table lacks, alone, with the same robust measurement
as a candidate (after warm-up, lowest round median, retried while the machine is busy,
never while a dsdnas process trains: `QuietWindows`), and saves the table every few
layers, so an interrupted run goes on from where it stopped. Then it fits the three
constants of `_table` to candidates timed whole and records how far the sum is from them.

`check_table` times candidates the table never saw and compares: the mean absolute
percentage error and Spearman's rank correlation (the Pearson correlation of the ranks).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from dsdnas.nas.lut._table import LatencyTable, corrected_ms
from dsdnas.nas.model.arch import Arch
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.latency import Latency, measure_latency
from dsdnas.nas.model.layers import Layer, handoff_elements
from dsdnas.nas.model.runtimes import UnsupportedModel
from dsdnas.nas.quiet import QuietWindows

SAVE_EVERY_S = 10.0  # at most this much measuring is lost to a kill (Ctrl-C loses none)
LAYER_REPEATS = 50  # timed passes per layer, in 5 rounds: as for a whole candidate
MIN_FIT = 8  # calibration candidates to fit the constants to: 3 of dsd-tiny gave 60 us a torch boundary (3 us)
# A fitted boundary past this many identity calls is taken for noise: the fits of 20-40 candidates of dsd-range
# gave 1.4x (onnxruntime) and 2.9x (torch); 8 of dsd-tiny, whose candidates all have 3 or 4 layers, gave 24x.
MAX_CALL = 5.0

Progress = Callable[[int, int, str], None]  # (done, total, what was just measured)


def _time(table: LatencyTable, module: nn.Module, input_shape: tuple[int, ...], *, device: torch.device) -> Latency:
    with QuietWindows(device).measuring():
        return measure_latency(
            module.to(device), input_shape, device=device, threads=table.threads, runtime=table.runtime
        )


def _entry(latency: Latency) -> dict[str, Any]:
    return {"ms": latency.p50_ms, "p90_ms": latency.p90_ms, "noisy": latency.noisy}


def fill_table(
    table: LatencyTable,
    layers: dict[str, Layer],
    calibration: list[Arch],
    *,
    device: torch.device,
    path: Path,
    progress: Progress = lambda done, total, key: None,
) -> LatencyTable:
    """Time the layers `table` lacks, then its constants; saved to `path` as it goes."""
    todo = [layer for key, layer in layers.items() if key not in table.layers]
    saved = time.monotonic()
    try:
        for done, layer in enumerate(todo, start=1):
            torch.manual_seed(0)
            try:
                table.layers[layer.key] = _entry(_time(table, layer.build(), layer.input_shape, device=device))
            except UnsupportedModel as error:  # kept, so a candidate with it fails with the reason
                table.layers[layer.key] = {"ms": None, "p90_ms": None, "noisy": False, "unsupported": str(error)}
            progress(done, len(todo), layer.key)
            if time.monotonic() - saved > SAVE_EVERY_S:
                table.save(path)
                saved = time.monotonic()
    except KeyboardInterrupt:  # Ctrl-C: keep every layer timed so far; the same command goes on from there
        table.save(path)
        raise
    if todo:
        table.model_ms = None  # new layers: measure the constants again
    if table.call_ms is None:
        table.call_ms = _time(table, nn.Identity(), table.input_shape, device=device).p50_ms
        table.save(path)
    if table.model_ms is None or table.element_ns is None:  # None: new layers, or a table from before element_ns
        calibrate(table, calibration, device=device)
    table.save(path)
    return table


def whole_ms(table: LatencyTable, arch: Arch, device: torch.device) -> float:
    """The candidate timed whole, as the table times its layers: its runtime, threads and quiet window."""
    return _time(table, build_model(arch), arch.input_shape, device=device).p50_ms


def calibrate(table: LatencyTable, archs: list[Arch], *, device: torch.device) -> None:
    """Fit the table's constants to candidates timed whole; record each one and the error before and after."""
    rows = []
    for arch in archs:
        if table.unsupported(arch):
            continue
        total, count = table.layer_sum_ms(arch)
        measured = whole_ms(table, arch, device)
        rows.append(
            {
                "notation": arch.notation,
                "layers": count,
                "handed": handoff_elements(arch),
                "sum_ms": total,
                "measured_ms": measured,
            }
        )
    # An identity's call, timed by fill_table: the first guess at what a layer timed alone pays more.
    identity_ms = table.calibration.get("identity_ms") or table.call_ms
    table.call_ms, table.model_ms, table.element_ns = fit_constants(rows, identity_ms)
    whole = [row["measured_ms"] for row in rows]
    constants = (table.call_ms, table.model_ms, table.element_ns)
    predicted = [predict_row(row, constants) for row in rows]
    table.calibration = {
        "candidates": len(rows),
        "mape_sum": mape([row["sum_ms"] for row in rows], whole),
        "mape": mape(predicted, whole),
        "identity_ms": identity_ms,
        "call_ms": table.call_ms,
        "model_ms": table.model_ms,
        "element_ns": table.element_ns,
        "rows": rows,
    }


def predict_row(row: dict[str, Any], constants: tuple[float, ...]) -> float:
    """A calibration or check row's corrected sum, from its layers, handed elements and entries' sum;
    `constants` are (call_ms, model_ms[, element_ns]), as `fit_constants` returns them."""
    call_ms, model_ms, element_ns = (*constants, 0.0)[:3]
    return corrected_ms(
        row["sum_ms"], row["layers"], call_ms=call_ms, model_ms=model_ms, handed=row["handed"], element_ns=element_ns
    )


def fit_constants(rows: list[dict[str, Any]], identity_ms: float, *, elements: bool = True) -> tuple[float, ...]:
    """(call_ms, model_ms, element_ns): the plane whole = sum - (layers - 1) * call_ms - handed * element_ns +
    model_ms through the candidates timed whole, fitted to their relative errors (a 20 us model weighs as much
    as a 2 ms one).

    A layer timed alone pays more than an identity's call: in ONNX Runtime the fit found 16-17
    us a boundary on the 2-core VM where an identity took 8-11 (docs/benchmarks.md, latency
    tables), and more again the larger the activation it takes, which it converts to the runtime's
    layout and back (about 1.5 ns an element there). So these costs are fitted, not assumed. A fit
    that finds an element's cost negative (torch has no such copy), or `elements` False, leaves it out
    (0). With fewer than MIN_FIT candidates, or layer counts all alike, or a fit that finds a boundary
    free or dearer than MAX_CALL identity calls, the boundary is the identity's call and model_ms the
    median of what is left.
    """
    boundaries = [row["layers"] - 1 for row in rows]
    if len(rows) >= MIN_FIT and len(set(boundaries)) >= 2:
        if elements and len({row["handed"] for row in rows}) >= 2:
            call_ms, model_ms, element_ns = _plane(rows, with_elements=True)
            if 0 < call_ms <= MAX_CALL * identity_ms and element_ns >= 0:
                return call_ms, model_ms, element_ns
        call_ms, model_ms = _plane(rows, with_elements=False)
        if 0 < call_ms <= MAX_CALL * identity_ms:
            return call_ms, model_ms, 0.0
    return (*identity_constants(rows, identity_ms), 0.0)


def _plane(rows: list[dict[str, Any]], *, with_elements: bool) -> list[float]:
    """Least squares of whole - sum on -(layers - 1), [-handed / 1e6,] 1, each row over its whole: a
    coefficient of millions of elements in ms is one of an element in ns."""
    weights = torch.tensor([1.0 / row["measured_ms"] for row in rows], dtype=torch.float64)
    columns = [[-(row["layers"] - 1), *([-row["handed"] / 1e6] if with_elements else []), 1.0] for row in rows]
    design = torch.tensor(columns, dtype=torch.float64) * weights[:, None]
    target = torch.tensor([row["measured_ms"] - row["sum_ms"] for row in rows], dtype=torch.float64) * weights
    call_ms, *rest = torch.linalg.lstsq(design, target[:, None]).solution.flatten().tolist()
    return [call_ms, rest[-1], *rest[:-1]]  # call_ms, model_ms[, element_ns]


def identity_constants(rows: list[dict[str, Any]], identity_ms: float) -> tuple[float, float]:
    """(call_ms, model_ms) as before the fit: an identity's call a boundary, the median of what is left."""
    leftover = [row["measured_ms"] - row["sum_ms"] + (row["layers"] - 1) * identity_ms for row in rows]
    return identity_ms, statistics.median(leftover) if leftover else 0.0


def mape(predicted: list[float], measured: list[float]) -> float | None:
    """Mean absolute percentage error, as a fraction; None without pairs."""
    if not measured:
        return None
    return statistics.fmean(abs(p - m) / m for p, m in zip(predicted, measured, strict=True))


def spearman(predicted: list[float], measured: list[float]) -> float | None:
    """Spearman's rank correlation: the Pearson correlation of the average ranks; None under 3 pairs."""
    if len(measured) < 3:
        return None
    return float(pd.Series(predicted).rank().corr(pd.Series(measured).rank()))


def spearman_text(check: dict[str, Any]) -> str:
    """A check's rank correlation for a line of text, or n/a (fewer than 3 candidates)."""
    return "n/a" if check.get("spearman") is None else f"{check['spearman']:.2f}"


def check_table(
    table: LatencyTable, archs: list[Arch], *, device: torch.device, progress: Progress = lambda d, t, k: None
) -> dict[str, Any]:
    """Each candidate's predicted and measured latency, with the error over all of them; kept in the table."""
    rows = []
    for done, arch in enumerate(archs, start=1):
        if table.unsupported(arch):
            continue
        rows.append(
            {
                "notation": arch.notation,
                "predicted_ms": table.predict_ms(arch),
                "measured_ms": whole_ms(table, arch, device),
            }
        )
        progress(done, len(archs), arch.notation)
    predicted = [row["predicted_ms"] for row in rows]
    measured = [row["measured_ms"] for row in rows]
    table.check = {
        "candidates": len(rows),
        "mape": mape(predicted, measured),
        "spearman": spearman(predicted, measured),
        "measured": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "rows": rows,
    }
    return table.check
