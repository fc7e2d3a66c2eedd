"""For bench_rank.py: do zero-cost scores (`_proxies.py`) pick better start-up candidates?

Three figures per score, on candidates trained to the end:
- its Spearman correlation with the final validation accuracy;
- the same within each third of the candidates by MACs, averaged: what it knows beyond
  the cost, which the front already trades against accuracy;
- a start-up of `STARTUP` replayed as `warm_start.SynflowStart` picks: each pick draws an
  anchor and `DRAWN` more of the trained candidates at random and takes the best-scored of
  the anchor and the `POOL` - 1 nearest it in MACs. The hypervolume of the start's front on
  bench_search's scale (1 - accuracy against log MACs over the space's range, reference
  (1, 1)), median over `DRAWS` start-ups. Against it: the random start-up (the anchors
  alone) and a random member of each pool (the pool without the score). Picks may repeat
  within a start-up, the anchors alike.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from _test_front import normalized
from optuna._hypervolume import compute_hypervolume  # Optuna's own hypervolume

from dsdnas.nas.lut import spearman
from dsdnas.nas.search.warm_start import DRAWN, POOL

STARTUP = 10  # TPE's random start-up
DRAWS = 2000
PICKS = {  # how a pick chooses within its pool (the anchor first, then the nearest in MACs)
    "the random start-up (the anchor alone)": lambda pool, scores, rng: pool[0],
    "a random member of each pool": lambda pool, scores, rng: pool[rng.integers(len(pool))],
    "best-scored": lambda pool, scores, rng: pool[int(np.argmax(scores[pool]))],
}


def _within_thirds(frame: pd.DataFrame, score: str) -> float:
    thirds = pd.qcut(frame["macs"].rank(method="first"), 3, labels=False)
    rhos = [spearman(list(group[score]), list(group["final"])) for _, group in frame.groupby(thirds)]
    rhos = [rho for rho in rhos if rho is not None]
    return float(np.mean(rhos)) if rhos else math.nan


def _startups(frame: pd.DataFrame, score: str, pick: str, bounds: tuple[float, float], rng: np.random.Generator):
    log_macs, scores = np.log10(frame["macs"].to_numpy()), frame[score].to_numpy()
    drawn_count = min(1 + DRAWN, len(frame))  # --quick trains a handful
    losses = np.array([normalized(a, m, *bounds) for a, m in zip(frame["final"], frame["macs"], strict=True)])
    values = []
    for _ in range(DRAWS):
        picked = []
        for _ in range(STARTUP):
            anchor, *others = rng.choice(len(frame), drawn_count, replace=False)
            nearest = sorted(others, key=lambda index: abs(log_macs[index] - log_macs[anchor]))[: POOL - 1]
            picked.append(PICKS[pick](np.array([anchor, *nearest]), scores, rng))
        values.append(compute_hypervolume(losses[picked], np.array([1.0, 1.0])))
    return np.array(values)


def _line(start: np.ndarray, random_start: np.ndarray) -> str:
    better = float(np.mean(start > np.median(random_start)))
    quartiles = f"{np.percentile(start, 25):.4f}-{np.percentile(start, 75):.4f}"
    return f"start-up's front {np.median(start):.4f} ({quartiles}), above the random start-up's median {better:.0%}"


def proxy_report(
    name: str, frame: pd.DataFrame, scores: list[str], bounds: tuple[float, float], rng: np.random.Generator
) -> None:
    """Print each score's correlations and its replayed start-up against the random ones; `bounds`: the MACs scale."""
    candidates = frame.drop_duplicates("candidate").reset_index(drop=True)
    candidates = candidates.assign(log_macs=np.log10(candidates["macs"]))
    scores = ["log_macs", *[score for score in scores if score in candidates]]
    print(f"\n{name}: zero-cost scores on {len(candidates)} candidates, against their final validation accuracy;")
    print(f"start-ups of {STARTUP} replayed {DRAWS} times, each pick from {1 + DRAWN} drawn, a pool of {POOL}")
    anchors, pooled = list(PICKS)[:2]
    random_start = _startups(candidates, "log_macs", anchors, bounds, rng)
    print(f"  {anchors}: {_line(random_start, random_start)}")
    print(f"  {pooled}: {_line(_startups(candidates, 'log_macs', pooled, bounds, rng), random_start)}")
    for score in scores:
        overall = spearman(list(candidates[score]), list(candidates["final"]))
        within = _within_thirds(candidates, score)
        correlation = "too few candidates" if overall is None else f"Spearman {overall:+.3f}"
        start = _startups(candidates, score, "best-scored", bounds, rng)
        print(f"  {score:9} {correlation}, within thirds by MACs {within:+.3f}; {_line(start, random_start)}")
