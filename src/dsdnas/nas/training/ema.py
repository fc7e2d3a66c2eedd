"""The weight average a fine-tune scores: an exponential moving average that warms up.

With a fixed decay d the average keeps d**n of its start after n updates. The fine-tune's
decay spans about an epoch of steps (1 - 1/steps), so after one epoch 37% of the average
was still the untrained weights: a 1-epoch fine-tune of a small candidate on mnist-sample
scored 10.00% (chance) with the average and 30.90% without it. Until the updates are many,
the decay is (1 + n) / (WARMUP + n) instead, whichever is lower (TensorFlow's
`ExponentialMovingAverage(num_updates=...)`, timm's `ModelEmaV3` warm-up): early on the
average follows the weights closely, and later it is the EMA it was.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

WARMUP = 10  # the decay is below 0.9 for the first 80 updates, below 0.99 for the first 890

MultiAvgFn = Callable[[list[torch.Tensor], list[torch.Tensor], torch.Tensor], None]


def decay_at(decay: float, updates: int) -> float:
    """The decay of the update after `updates` earlier ones."""
    return min(decay, (1 + updates) / (WARMUP + updates))


def warmed_up_ema(decay: float) -> MultiAvgFn:
    """`multi_avg_fn` for torch's AveragedModel: the average moves to the weights by 1 - decay_at(...).

    AveragedModel passes how many updates it has averaged; it keeps that count in its state
    dict, so a resumed fine-tune goes on with the same decays.
    """

    @torch.no_grad()
    def update(averaged: list[torch.Tensor], current: list[torch.Tensor], num_averaged: torch.Tensor) -> None:
        rate = decay_at(decay, int(num_averaged))
        if torch.is_floating_point(averaged[0]):  # one dtype a call: AveragedModel groups them
            torch._foreach_lerp_(averaged, current, 1.0 - rate)
        else:  # a batch norm's count of batches: lerp takes floats only
            for mean, now in zip(averaged, current, strict=True):
                mean.copy_(mean * rate + now * (1.0 - rate))

    return update
