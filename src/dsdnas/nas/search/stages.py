"""Training in stages up to the rungs: one schedule over the full epochs, judged at each rung.

The trainer is built for all of --epochs, and each stage only runs it further, so the
learning-rate schedule (one-cycle, cosine) is the full run's: a candidate that passes
every rung is trained exactly as it would have been without early stopping.
"""

from __future__ import annotations

from collections.abc import Callable

from dsdnas.nas.training.stats import EpochStats
from dsdnas.nas.training.trainer import Trainer, TrainResult


def train_in_stages(
    trainer: Trainer,
    rungs: tuple[int, ...],
    *,
    on_epoch: Callable[[EpochStats], None],
    goes_on: Callable[[int, float], bool],
) -> tuple[TrainResult, int | None]:
    """Train to config.epochs, asking `goes_on(epoch, val_accuracy)` at each rung.

    Returns everything trained so far, and the rung it stopped at (None: trained to the end).
    """
    total = TrainResult()
    for end in [*sorted(r for r in rungs if r < trainer.config.epochs), trainer.config.epochs]:
        part = trainer.run(epochs=end - trainer.epoch, on_epoch=on_epoch)
        total.history += part.history
        total.seconds += part.seconds
        total.images_per_second = part.images_per_second or total.images_per_second
        if part.failure is not None:
            total.failure = part.failure
            return total, None
        if end < trainer.config.epochs and not goes_on(end, total.val_accuracy):
            return total, end
    return total, None
