"""The fine-tune's weight average warms up: early on it follows the weights, later it is the EMA asked for."""

import pytest
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from dsdnas.nas.training.ema import decay_at, warmed_up_ema


def test_the_decay_grows_to_the_one_asked_for():
    assert decay_at(0.999, 0) == pytest.approx(0.1) and decay_at(0.999, 80) == pytest.approx(0.9)
    assert decay_at(0.95, 1000) == 0.95  # past the warm-up, the decay asked for


def _averaged(values: list[float], decay: float) -> float:
    """A one-weight model (with a batch norm, whose count of batches is an integer) set to each value in turn."""
    model = nn.Sequential(nn.Linear(1, 1, bias=False), nn.BatchNorm1d(1))
    average = AveragedModel(model, multi_avg_fn=warmed_up_ema(decay), use_buffers=True)
    for value in values:
        model[0].weight.data.fill_(value)
        model[1].num_batches_tracked += 1
        average.update_parameters(model)
    assert average.module[1].num_batches_tracked.dtype == torch.int64  # averaged too (lerp takes floats only)
    return average.module[0].weight.item()


def test_each_update_moves_the_average_by_one_minus_the_warmed_up_decay():
    # The first update copies; then decays 2/11 and 3/12 (under 0.99): 9/11, then 0.25 * 9/11 + 0.75.
    assert _averaged([0.0, 1.0], 0.99) == pytest.approx(9 / 11)
    assert _averaged([0.0, 1.0, 1.0], 0.99) == pytest.approx(0.25 * 9 / 11 + 0.75)


def test_after_one_epoch_the_average_holds_the_trained_weights_not_the_start():
    # One epoch of 63 steps (mnist-sample's 4,000 images in batches of 64) at the fine-tune's decay, 1 - 1/63:
    # a fixed decay kept 0.984 ** 62 = 37% of the untrained weights (here 0), and scored chance.
    average = _averaged([0.0] + [1.0] * 62, 1 - 1 / 63)
    assert average > 0.999
