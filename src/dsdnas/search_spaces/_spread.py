"""A new study's first candidates, spread over the space's cost range.

The cheapest candidate comes first (the exact recursion in `_bounds` finds it), so the
front reaches the cheap end however the sampler explores. Then, for `count` targets
log-spaced between the cheapest and the dearest MACs, the candidate nearest each target
among `samples` random draws (seeded, costed by `analytic_costs`, no model built), so the
first few trials already cover the range instead of clustering where TPE's random
start-up happens to fall. `random_draw` gives the same random candidates one at a time,
for the start-up's picks (`nas/search/warm_start.py`).
"""

from __future__ import annotations

import math
import random
from typing import Any

from dsdnas.nas.model.analytic import analytic_costs
from dsdnas.nas.model.arch import Arch
from dsdnas.nas.search.warm_start import Draw

SAMPLES = 400  # random candidates weighed per study: a few milliseconds each


class _RandomTrial:
    """A trial that picks each choice at random, recording what it was asked, as Optuna would store it."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.params: dict[str, Any] = {}

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        self.params[name] = self.rng.choice(list(choices))
        return self.params[name]


def random_draw(space, input_shape: tuple[int, int, int], num_classes: int) -> Draw:
    """A function drawing one random candidate of `space` from a stream: (its Arch, its parameters)."""

    def draw(rng: random.Random) -> tuple[Arch, dict[str, Any]]:
        trial = _RandomTrial(rng)
        return space.sample(trial, input_shape, num_classes), trial.params

    return draw


def spread_over_costs(
    space, input_shape: tuple[int, int, int], num_classes: int, *, count: int, seed: int = 0
) -> list[dict[str, Any]]:
    """The parameters of the cheapest candidate, then of `count` candidates at log-spaced MACs in between."""
    first = [space.cheapest_params(input_shape, num_classes)]
    if count < 1:
        return first
    rng, draw, drawn = random.Random(seed), random_draw(space, input_shape, num_classes), []
    for _ in range(SAMPLES):
        arch, params = draw(rng)
        drawn.append((math.log10(analytic_costs(arch)[0]), params))
    bounds = space.cost_bounds(input_shape, num_classes)
    low, high = math.log10(bounds.min_macs), math.log10(bounds.max_macs)
    for step in range(1, count + 1):
        target = low + (high - low) * step / (count + 1)
        _, params = min(drawn, key=lambda item: abs(item[0] - target))
        if params not in first:
            first.append(params)
    return first
