"""The start-up's candidates picked by a zero-cost score instead of drawn blind (`--sampler tpe+mutate+synflow`).

TPE samples at random until 10 candidates are complete, a third of a 180 s search. Each
start-up candidate here is instead the best by synflow (Tanaka et al., NeurIPS 2020) of a
random candidate and the `POOL` - 1 nearest it in MACs among `DRAWN` more random ones:
the start keeps random sampling's spread of costs, and at each cost takes the network
synflow expects to train best. Synflow needs no data: the sum over parameters of
|theta * dR/dtheta|, R the output summed for an input of ones with every weight made
positive. Replayed on 100 trained candidates of the default space (benchmarks.md,
"Zero-cost scores"), such a start-up's front had a median hypervolume 0.03-0.04 above a
random one's, where NASWOT and log MACs did not beat it; the pool must be narrow, as
synflow grows with size (a pool of 5 among 17 draws fell below random).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from dsdnas.nas.model.analytic import analytic_costs
from dsdnas.nas.model.arch import Arch
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.search.objective import Limits

POOL = 3  # candidates of about one cost each start-up pick is the best-scored of
DRAWN = 48  # random candidates the anchor's pool is found among: a pick takes about 30 ms

# A random candidate of the space: its architecture and its parameters as the study stores them.
Draw = Callable[[random.Random], tuple[Arch, dict[str, Any]]]


def synflow(model: nn.Module, input_shape: tuple[int, int, int]) -> float:
    """sum |theta * dR/dtheta|, every weight positive, R the output summed for one input of ones.

    In float64 (the product of many layers overflows float32) and eval mode (BatchNorm as
    initialised, no batch statistics); `model` is changed, so pass one built for this.
    """
    model = model.double().eval()
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.abs_()
    model(torch.ones((1, *input_shape), dtype=torch.float64)).sum().backward()
    with torch.no_grad():
        return sum(float((p * p.grad).abs().sum()) for p in model.parameters() if p.grad is not None)


class SynflowStart:
    """Called with a random stream, the parameters of the next start-up candidate.

    Synflow favours the dearer of a pool, so a neighbour over the search's --max-macs or
    --max-params is never pooled (the anchor is drawn as TPE would draw it, within them
    or not; a latency limit cannot be checked without timing).
    """

    def __init__(self, draw: Draw, input_shape: tuple[int, int, int], limits: Limits | None = None) -> None:
        self.draw = draw
        self.input_shape = input_shape
        self.max_macs = (limits and limits.max_macs) or math.inf
        self.max_params = (limits and limits.max_params) or math.inf

    def __call__(self, rng: np.random.RandomState, evaluated: list[dict[str, Any]]) -> dict[str, Any]:
        """A candidate not in `evaluated` where the pool has one: in a small space the best-scored
        would otherwise be picked again and again, each time a trial of the budget."""
        stream = random.Random(int(rng.randint(2**31)))
        drawn = [self.draw(stream) for _ in range(1 + DRAWN)]
        costs = [analytic_costs(arch) for arch, _ in drawn]  # (MACs, params)
        log_macs = [math.log10(max(macs, 1)) for macs, _ in costs]
        by_distance = sorted(range(1, len(drawn)), key=lambda index: abs(log_macs[index] - log_macs[0]))
        neighbours = [i for i in by_distance if costs[i][0] <= self.max_macs and costs[i][1] <= self.max_params]
        pool = [index for index in [0, *neighbours] if drawn[index][1] not in evaluated][:POOL] or [0]
        scores = [synflow(build_model(drawn[index][0], seed=0), self.input_shape) for index in pool]
        return drawn[pool[int(np.argmax(scores))]][1]  # the first best: the anchor, if it is in the pool
