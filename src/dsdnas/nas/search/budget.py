"""Parse --budget: a trial count ("50") or a wall-clock limit ("90s", "30m", "2h")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dsdnas.errors import DsdnasError

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True)
class Budget:
    trials: int | None = None  # evaluated trials (trained, reused, stopped) the study should hold in total
    seconds: float | None = None  # no new trial starts after this much wall time
    text: str = field(default="", compare=False)  # as the user wrote it, for run.json and messages

    def __post_init__(self) -> None:
        if (self.trials is None) == (self.seconds is None):
            raise ValueError("a Budget is a trial count or a time, exactly one of them")

    def __str__(self) -> str:
        return self.text or (str(self.trials) if self.trials is not None else f"{self.seconds:g}s")


def parse_budget(text: str | int | Budget) -> Budget:
    """The budget `text` means; a Budget is already parsed and comes back as it is."""
    if isinstance(text, Budget):
        return text
    value = str(text).strip().lower()
    if re.fullmatch(r"\d+", value):
        trials = int(value)
        if trials < 1:
            raise DsdnasError(f"--budget {text}: the trial count must be at least 1")
        return Budget(trials=trials, text=str(text))
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smh])", value)
    if match is None or float(match[1]) <= 0:
        raise DsdnasError(f"--budget {text!r}: give a trial count (50) or a time (90s, 30m, 2h)")
    return Budget(seconds=float(match[1]) * _UNIT_SECONDS[match[2]], text=str(text))
