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

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dsdnas.nas.lut._fit import fit_constants, mape, predict_row, spearman
from dsdnas.nas.lut._table import LatencyTable
from dsdnas.nas.model.arch import Arch
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.latency import Latency, measure_latency
from dsdnas.nas.model.layers import Layer, handoff_elements
from dsdnas.nas.model.runtimes import UnsupportedModel
from dsdnas.nas.quiet import QuietWindows

SAVE_EVERY_S = 10.0  # at most this much measuring is lost to a kill (Ctrl-C loses none)
LAYER_REPEATS = 50  # timed passes per layer, in 5 rounds: as for a whole candidate

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
    # A finished table from before element_ns keeps its constants (predicting with 0 ns): fitted again here, they
    # would be fitted to candidates timed in another process than its layers, which can read 0.88-1.19x
    # (docs/benchmarks.md, the probe's reference between processes).
    if table.model_ms is None:
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
    table.check = {}  # a check measured the constants before these
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
