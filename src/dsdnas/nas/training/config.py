"""How a candidate is trained: the settings, checked, with no torch to import."""

from __future__ import annotations

from dataclasses import dataclass

from dsdnas.errors import DsdnasError

DEFAULT_LR = {"adamw": 1e-2, "sgd": 0.1}  # peak learning rate at batch 64, scaled by sqrt(batch/64)
SCHEDULES = ("onecycle", "cosine", "constant")


def check_optimizer(name: str) -> str:
    if name not in DEFAULT_LR:
        raise DsdnasError(f"--optimizer {name!r} must be one of {', '.join(DEFAULT_LR)}")
    return name


def check_schedule(name: str) -> str:
    if name not in SCHEDULES:
        raise DsdnasError(f"--schedule {name!r} must be one of {', '.join(SCHEDULES)}")
    return name


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 3
    batch_size: int = 64
    optimizer: str = "adamw"  # adamw | sgd
    lr: float | None = None  # peak learning rate; None takes DEFAULT_LR
    weight_decay: float = 5e-4
    schedule: str = "onecycle"  # onecycle | cosine | constant
    label_smoothing: float = 0.0
    augment: bool = False  # random shifts of up to max_shift px
    max_shift: int = 2
    ema_decay: float | None = None  # e.g. 0.999; None trains without weight averaging
    seed: int = 0

    def __post_init__(self) -> None:
        check_optimizer(self.optimizer)
        check_schedule(self.schedule)
