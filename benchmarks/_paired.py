"""Two methods compared seed by seed: each seed runs both, so their difference on it is one paired draw.

A median over 5 seeds moved by 0.015 between two sets of seeds (benchmarks.md, "sixth"),
more than the methods differ, so whether one method ends above another is read from the
per-seed differences: on how many seeds it is ahead, their mean with a bootstrap interval,
and the paired sign-flip test's p for that mean. A method that wins rarely but by much and
loses often but by little has a positive mean and a losing count; both are printed.
"""

from __future__ import annotations

import itertools
import statistics

import numpy as np

BOOTSTRAP_DRAWS = 4000
EXACT_UP_TO = 16  # seeds: 2**16 sign patterns enumerated; past that, as many drawn at random


def sign_flip_p(differences: list[float], seed: int = 0) -> float:
    """Two-sided paired test of a zero mean difference: the share of the differences' sign patterns whose
    mean is at least as far from 0 as the observed one (each seed's two results equally likely either way)."""
    values = np.abs(np.asarray(differences, dtype=float))
    exact = len(values) <= EXACT_UP_TO
    if exact:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=len(values))))
    else:
        signs = np.random.default_rng(seed).choice((1.0, -1.0), size=(2**EXACT_UP_TO, len(values)))
    hits = int(np.sum(np.abs(signs @ values) / len(values) >= abs(float(np.mean(differences))) - 1e-12))
    return hits / len(signs) if exact else (hits + 1) / (len(signs) + 1)  # a draw: the observed pattern counted


def mean_interval(differences: list[float], seed: int = 0) -> tuple[float, float]:
    """A 95% percentile-bootstrap interval of the mean of `differences`."""
    draws = np.random.default_rng(seed).choice(differences, size=(BOOTSTRAP_DRAWS, len(differences)))
    low, high = np.percentile(draws.mean(axis=1), [2.5, 97.5])
    return float(low), float(high)


def paired_line(values: list[float], yardstick: list[float], name: str) -> str:
    """One line: `values` against `yardstick`, seed by seed (the two lists in the same seed order)."""
    differences = [v - y for v, y in zip(values, yardstick, strict=True)]
    low, high = mean_interval(differences)
    return (
        f"against {name}, seed by seed: ahead on {sum(d > 0 for d in differences)} of {len(differences)}, "
        f"mean difference {statistics.fmean(differences):+.4f} (95% bootstrap interval {low:+.4f} to "
        f"{high:+.4f}; sign-flip test p = {sign_flip_p(differences):.2f})"
    )
