"""Uncertainty of an accuracy measured on n images: the Wilson score interval.

The bundled sample's validation split has 400 images: one image is 0.25 points and the
binomial standard error near 97% is about 0.85 points, so two candidates closer than
their intervals are not told apart by this data. Wilson's interval keeps its coverage
near 0 and 1, where the plain normal approximation collapses.
"""

from __future__ import annotations

import math

Z_95 = 1.959963984540054  # two-sided 95% quantile of the standard normal


def wilson_interval(accuracy: float, n: int, z: float = Z_95) -> tuple[float, float]:
    """(low, high) of the 95% Wilson score interval of `accuracy` (a fraction) on `n` images."""
    if n <= 0:
        return (0.0, 1.0)
    p = min(max(accuracy, 0.0), 1.0)
    z2 = z * z
    center = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return (max(0.0, center - half), min(1.0, center + half))


def tied_with_best(accuracies: list[float], n: int) -> list[int]:
    """Indices of the accuracies (each on `n` images) whose interval reaches the best one's: not told apart."""
    if not accuracies:
        return []
    best = max(range(len(accuracies)), key=lambda i: accuracies[i])
    floor = wilson_interval(accuracies[best], n)[0]
    return [i for i, accuracy in enumerate(accuracies) if i != best and wilson_interval(accuracy, n)[1] >= floor]
