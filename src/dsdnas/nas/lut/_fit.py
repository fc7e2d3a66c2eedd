"""Fitting a latency table's constants to candidates timed whole, and the error measures of its predictions.

Pure arithmetic on rows, one per candidate: `layers`, `handed` (`layers.handoff_elements`),
`sum_ms` (its layers' entries added up) and `measured_ms` (the candidate timed whole).
`_measure` times them; this module draws the line through them.
"""

from __future__ import annotations

import statistics
from typing import Any

import pandas as pd
import torch

from dsdnas.nas.lut._table import corrected_ms

MIN_FIT = 8  # calibration candidates to fit the constants to: 3 of dsd-tiny gave 60 us a torch boundary (3 us)
# A fitted boundary past this many identity calls, either way, is taken for noise: the fits of 20-40 candidates of
# dsd-range gave 1.4x (onnxruntime), 2.9x and -4.0x (torch); 8 of dsd-tiny, whose candidates all have 3 or 4
# layers, gave 24x.
MAX_CALL = 5.0


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

    A layer timed alone pays more than an identity's call: in ONNX Runtime on the 2-core VM the
    fits found 8-19 us a boundary where an identity took 6-16 (docs/benchmarks.md, latency
    tables), and more again the larger the activation it takes, which it converts to the runtime's
    layout and back (0.5-1.1 ns an element there). In torch a layer can pay less alone than in the
    whole model, whose other layers evict its weights and input from the caches: one fit found
    -10 us a boundary (whole models 5-15% above their sums). So these costs are fitted, not assumed.
    A fit that finds an element's cost negative (torch has no such copy), or `elements` False, leaves
    it out (0). With fewer than MIN_FIT candidates, or layer counts all alike, or a fit that finds a
    boundary dearer than MAX_CALL identity calls either way, the boundary is the identity's call and
    model_ms the median of what is left.
    """
    if len(rows) >= MIN_FIT and len({row["layers"] for row in rows}) >= 2:
        if elements and len({row["handed"] for row in rows}) >= 2:
            call_ms, model_ms, element_ns = _plane(rows, with_elements=True)
            if abs(call_ms) <= MAX_CALL * identity_ms and element_ns >= 0:
                return call_ms, model_ms, element_ns
        call_ms, model_ms = _plane(rows, with_elements=False)
        if abs(call_ms) <= MAX_CALL * identity_ms:
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
