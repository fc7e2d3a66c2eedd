"""Moves around the front: a front member with one choice changed, not yet evaluated.

On small discrete spaces local search around the best candidates is a strong baseline
(White et al., "Local search is state of the art for NAS benchmarks", 2020: it reaches
NAS-Bench-201's optimum after 127 architectures on average; BANANAS' gains come mostly
from its mutation step). Only fully trained candidates make the front, so a search must
propose good ones, not only stop bad ones: `samplers.TPEWithMutations` hands some trials
a mutation from here instead of a TPE draw.

A mutation is never a candidate already evaluated, as far as its choices go: one that
deepens a network needs choices its parent never made (the new block's), which TPE draws,
and those may meet an evaluated candidate; the search then reuses that one's result
instead of training it again. Pure logic on Optuna's parameters (every choice of a space
is categorical): no storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution

TRIES = 32  # mutations drawn before giving up on finding one not yet evaluated


def _same_candidate(params: dict[str, Any], proposal: dict[str, Any]) -> bool:
    """Whether an evaluated trial's `params` are the proposal's: every choice it made, made the same.

    A choice the proposal holds and the trial never made is one its architecture did not use
    (a block past its depth), so it does not tell them apart.
    """
    return all(key in proposal and proposal[key] == value for key, value in params.items())


def mutate(
    parent: dict[str, Any], distributions: dict[str, BaseDistribution], rng: np.random.RandomState
) -> tuple[str, dict[str, Any]] | None:
    """The parent's parameters with one choice, drawn at random, changed to another of its values."""
    names = [
        name
        for name, distribution in distributions.items()
        if isinstance(distribution, CategoricalDistribution) and len(distribution.choices) > 1
    ]
    if not names:
        return None
    name = names[rng.randint(len(names))]
    others = [choice for choice in distributions[name].choices if choice != parent[name]]
    return name, {**parent, name: others[rng.randint(len(others))]}


def propose(
    front: Sequence[tuple[int, dict[str, Any], dict[str, BaseDistribution]]],
    evaluated: Sequence[dict[str, Any]],
    rng: np.random.RandomState,
) -> tuple[int, str, dict[str, Any]] | None:
    """A mutation of a front member (number, params, distributions) that no `evaluated` trial made:
    (the parent's number, the choice changed, the parameters); None when TRIES draws found none."""
    if not front:
        return None
    for _ in range(TRIES):
        number, params, distributions = front[rng.randint(len(front))]
        drawn = mutate(params, distributions, rng)
        if drawn is not None and not any(_same_candidate(other, drawn[1]) for other in evaluated):
            return number, drawn[0], drawn[1]
    return None
