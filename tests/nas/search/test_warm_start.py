"""The start-up picked by synflow: the score as its definition gives it, and picks that follow it."""

import math
import random

import numpy as np
import optuna
import pytest
import torch
from torch import nn

from dsdnas.nas.model.analytic import analytic_costs
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.search.objective import Limits
from dsdnas.nas.search.warm_start import DRAWN, POOL, SynflowStart, synflow
from dsdnas.search_spaces import get_space

SHAPE = (1, 28, 28)


def test_synflow_of_a_bias_free_network_is_its_depth_times_its_output_with_positive_weights():
    # Each layer is linear in its own weights, so its sum of theta * dR/dtheta is R itself (Euler).
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 3, bias=False), nn.ReLU(), nn.Linear(3, 2, bias=False))
    first, second = net[0].weight.detach().abs().double(), net[2].weight.detach().abs().double()
    output = float((second @ first @ torch.ones(4, dtype=torch.float64)).sum())
    assert synflow(net, (4,)) == pytest.approx(2 * output, rel=1e-12)


def test_a_wider_network_scores_higher():
    narrow = nn.Sequential(nn.Linear(4, 3, bias=False), nn.ReLU(), nn.Linear(3, 2, bias=False))
    wide = nn.Sequential(nn.Linear(4, 30, bias=False), nn.ReLU(), nn.Linear(30, 2, bias=False))
    for layer in (*narrow, *wide):
        if isinstance(layer, nn.Linear):
            nn.init.constant_(layer.weight, 0.5)
    assert synflow(wide, (4,)) == pytest.approx(10 * synflow(narrow, (4,)))


class RecordedDraws:
    """A space's random draw that keeps what it drew, so a test knows each pick's anchor and pool."""

    def __init__(self, space) -> None:
        self.draw, self.drawn = space.random_draw(SHAPE, 10), []

    def __call__(self, stream: random.Random):
        self.drawn.append(self.draw(stream))
        return self.drawn[-1]


def _macs(space, params: dict) -> int:
    return analytic_costs(space.sample(optuna.trial.FixedTrial(params), SHAPE, 10))[0]  # a whole candidate


def test_a_start_up_pick_is_a_candidate_near_its_anchors_cost_and_never_below_it_by_synflow():
    space = get_space("dsd-range")
    moved = 0
    for seed in range(5):
        draws = RecordedDraws(space)
        params = SynflowStart(draws, SHAPE)(np.random.RandomState(seed), [])
        assert params == SynflowStart(RecordedDraws(space), SHAPE)(np.random.RandomState(seed), [])  # seeded
        assert len(draws.drawn) == 1 + DRAWN
        (anchor, anchor_params), picked = draws.drawn[0], space.sample(optuna.trial.FixedTrial(params), SHAPE, 10)
        assert synflow(build_model(picked), SHAPE) >= synflow(build_model(anchor), SHAPE)
        # Of the drawn, the pick is among the POOL nearest the anchor in MACs (the anchor itself first).
        distance = sorted(
            abs(math.log10(analytic_costs(arch)[0] / analytic_costs(anchor)[0])) for arch, _ in draws.drawn
        )
        assert abs(math.log10(analytic_costs(picked)[0] / analytic_costs(anchor)[0])) <= distance[POOL - 1]
        moved += params != anchor_params
    assert moved >= 2  # the score chose, not the draw


def test_a_pick_over_the_searchs_mac_limit_is_only_ever_its_anchor():
    space, limit = get_space("dsd-range"), 300_000
    over_without = 0
    for seed in range(8):
        draws = RecordedDraws(space)
        params = SynflowStart(draws, SHAPE, Limits(max_macs=limit))(np.random.RandomState(seed), [])
        assert _macs(space, params) <= limit or params == draws.drawn[0][1]
        unlimited = SynflowStart(RecordedDraws(space), SHAPE)(np.random.RandomState(seed), [])
        over_without += _macs(space, unlimited) > limit and unlimited != draws.drawn[0][1]
    assert over_without >= 1  # without the limit a neighbour over it is picked


def test_a_pick_in_a_small_space_is_never_a_candidate_already_evaluated_while_another_is_drawn():
    space = get_space("dsd-tiny")  # a few dozen candidates: the best by synflow is drawn again and again
    pick, evaluated = SynflowStart(space.random_draw(SHAPE, 10), SHAPE), []
    for seed in range(6):
        evaluated.append(pick(np.random.RandomState(seed), evaluated))
    assert len({str(sorted(params.items())) for params in evaluated}) == 6


def test_a_pick_is_the_best_by_synflow_of_its_anchor_and_the_nearest_in_macs_allowed_and_not_evaluated():
    space, picked_a_neighbour = get_space("dsd-range"), 0
    for seed in range(4):
        draws = RecordedDraws(space)
        params = SynflowStart(draws, SHAPE)(np.random.RandomState(seed), [])
        anchor = draws.drawn[0]
        nearest = sorted(
            draws.drawn[1:], key=lambda d: abs(math.log10(analytic_costs(d[0])[0] / analytic_costs(anchor[0])[0]))
        )
        pool = [anchor, *nearest[: POOL - 1]]
        scores = [synflow(build_model(arch), SHAPE) for arch, _ in pool]
        assert params == pool[int(np.argmax(scores))][1]
        picked_a_neighbour += params != anchor[1]
        # Limits at the pool's dearest neighbour keep the pool; everything evaluated leaves the anchor.
        costs = [analytic_costs(arch) for arch, _ in pool[1:]]
        limits = Limits(max_macs=max(macs for macs, _ in costs), max_params=max(count for _, count in costs))
        assert SynflowStart(RecordedDraws(space), SHAPE, limits)(np.random.RandomState(seed), []) == params
        everything = [drawn for _, drawn in draws.drawn]
        assert SynflowStart(RecordedDraws(space), SHAPE)(np.random.RandomState(seed), everything) == anchor[1]
    assert picked_a_neighbour >= 2
