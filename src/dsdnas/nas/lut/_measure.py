"""Making a latency table on the target device, and checking it against candidates timed whole.

`fill_table` times each layer the table lacks, alone, with the same robust measurement
as a candidate (after warm-up, lowest round median, retried while the machine is busy,
never while a dsdnas process trains: `QuietWindows`), and saves the table every few
layers, so an interrupted run goes on from where it stopped. Then it measures the two
constants of `_table` and how far the sum is from whole-model timings.

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

from dsdnas.nas.lut._table import LatencyTable
from dsdnas.nas.model.arch import Arch
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.latency import Latency, measure_latency
from dsdnas.nas.model.layers import Layer
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
    if table.model_ms is None:
        calibrate(table, calibration, device=device)
    table.save(path)
    return table


def whole_ms(table: LatencyTable, arch: Arch, device: torch.device) -> float:
    """The candidate timed whole, as the table times its layers: its runtime, threads and quiet window."""
    return _time(table, build_model(arch), arch.input_shape, device=device).p50_ms


def calibrate(table: LatencyTable, archs: list[Arch], *, device: torch.device) -> None:
    """Set `model_ms` from candidates timed whole; record the error of the plain and the corrected sum."""
    plain, corrected, whole = [], [], []
    for arch in archs:
        if table.unsupported(arch):
            continue
        total, count = table.layer_sum_ms(arch)
        plain.append(total)
        corrected.append(total - (count - 1) * table.call_ms)
        whole.append(whole_ms(table, arch, device))
    table.model_ms = statistics.median(w - c for w, c in zip(whole, corrected, strict=True)) if whole else 0.0
    table.calibration = {
        "candidates": len(whole),
        "mape_sum": mape(plain, whole),
        "mape": mape([c + table.model_ms for c in corrected], whole),
        "call_ms": table.call_ms,
        "model_ms": table.model_ms,
    }


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
