"""What one training epoch reports; light to import (no torch), so watchers can name it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class EpochStats:
    epoch: int
    train_loss: float
    val_loss: float | None
    val_accuracy: float | None
    seconds: float
