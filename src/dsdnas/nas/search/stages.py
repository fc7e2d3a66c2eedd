"""Training in stages up to the rungs: one schedule over the full run, judged at each rung.

The trainer is built for all of --epochs, and each stage only runs it further, to the
rung's optimizer step (inside an epoch or at its end), so the learning-rate schedule
(one-cycle, cosine) and the order of the images are the full run's: a candidate that
passes every rung is trained exactly as it would have been without early stopping.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from dsdnas.nas.training.stats import EpochStats
from dsdnas.nas.training.trainer import Trainer, TrainResult


def rung_signals(trainer: Trainer, result: TrainResult) -> dict[str, float]:
    """Every signal a rung can rank by (rungs.SIGNALS), where the trainer stands now.

    At the end of an epoch its validation scores are the epoch's own; inside one, the
    validation split is scored now. The training loss is the mean of every step so far.
    """
    at_epoch_end = trainer.steps_done % trainer.steps == 0 and result.history
    if at_epoch_end:
        val_loss, val_accuracy = result.history[-1].val_loss, result.history[-1].val_accuracy
    else:
        val_loss, val_accuracy = trainer.validate()
    return {"val_accuracy": val_accuracy, "val_loss": val_loss, "train_loss": trainer.mean_train_loss}


def train_in_stages(
    trainer: Trainer,
    rungs: tuple[int, ...],
    *,
    on_epoch: Callable[[EpochStats], None],
    goes_on: Callable[[int, dict[str, float]], bool],
) -> tuple[TrainResult, int | None]:
    """Train to config.epochs, asking `goes_on(step, signals)` at each rung (an optimizer step).

    Returns everything trained so far, and the step it stopped at (None: trained to the end).
    """
    total = TrainResult()
    last = trainer.config.epochs * trainer.steps
    for end in [*sorted(r for r in rungs if r < last), last]:
        part = trainer.run(until_step=end, on_epoch=on_epoch)
        total.history += part.history
        total.seconds += part.seconds
        total.images_per_second = part.images_per_second or total.images_per_second
        if part.failure is not None:
            total.failure = part.failure
            return total, None
        if end == last:
            break
        judging = time.perf_counter()
        signals = rung_signals(trainer, total)
        total.seconds += time.perf_counter() - judging  # scoring at a rung is training time, as at an epoch's end
        if not math.isfinite(signals["train_loss"]):
            total.failure = f"training loss became {signals['train_loss']} by step {end}"
            return total, None
        if not goes_on(end, signals):
            return total, end
    return total, None
