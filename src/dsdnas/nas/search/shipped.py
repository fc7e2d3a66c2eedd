"""The shipped front: front members fine-tuned on all the training data and scored once on the test split.

`dsdnas finetune RUN --front` (or `--top K`) writes RUN/finetune/front.json, naming the
members and the training settings, then fine-tunes each member into RUN/finetune/<n>/
exactly as `--trial n` does. A member whose folder finished with the same settings is
not trained again, so the same command goes on after a kill.

The functions here are pure apart from reading those files: which members to take
(`spread`), what finished (`read_shipped`, `finetuned_members`), the front of the fine-tuned members by test
accuracy against MACs (Optuna's non-dominated sort), and the member `export` ships.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from optuna.study._multi_objective import _fast_non_domination_rank  # Optuna's own non-dominated sort

from dsdnas.errors import RunError
from dsdnas.nas.files import read_json
from dsdnas.nas.runs.artifacts import finetune_finished
from dsdnas.nas.runs.rundir import CHECKPOINT_FILE, FINETUNE_FILE, METRICS_FILE, RunDir
from dsdnas.nas.search.end_latency import end_latencies, finetune_latency
from dsdnas.nas.search.picks import best, front_picks, knee
from dsdnas.nas.stats import wilson_interval

FRONT_FILE = "front.json"  # under RUN/finetune/: the members of the last `finetune --front` and its settings


@dataclass(frozen=True)
class Member:
    """One fine-tuned front member, as its metrics.json records it."""

    number: int
    folder: Path
    test_accuracy: float
    test_size: int
    val_accuracy: float | None  # the search's, at low fidelity
    macs: int
    params: int
    latency_ms: float | None
    epochs: int
    train_s: float

    @property
    def values(self) -> tuple[float, float]:
        """(accuracy, first cost), the shape `picks.best` and `picks.knee` read."""
        return (self.test_accuracy, float(self.macs))

    @property
    def test_interval(self) -> tuple[float, float]:
        return wilson_interval(self.test_accuracy, self.test_size)


def spread(front: list[Any], count: int) -> list[Any]:
    """`count` members of a cost-ordered front, spread evenly over log10 of the first cost.

    The cheapest and the dearest are always in; each target cost between takes the nearest
    member not yet taken. The result keeps the front's order.
    """
    if count >= len(front):
        return list(front)
    logs = [math.log10(max(member.values[1], 1e-12)) for member in front]
    chosen: set[int] = set()
    for step in range(count):
        target = logs[0] + (logs[-1] - logs[0]) * (step / (count - 1) if count > 1 else 1.0)
        free = [i for i in range(len(front)) if i not in chosen]
        chosen.add(min(free, key=lambda i: (abs(logs[i] - target), i)))
    return [front[i] for i in sorted(chosen)]


def finished_with(folder: Path, settings: dict[str, Any]) -> bool:
    """Whether `folder` holds a finished final fine-tune trained with these settings."""
    return finetune_finished(folder) and _final_with(folder, settings)


def resumable_with(folder: Path, settings: dict[str, Any]) -> bool:
    """Whether `folder` holds an interrupted fine-tune with these settings, which can go on from its checkpoint."""
    return (folder / CHECKPOINT_FILE).exists() and (folder / FINETUNE_FILE).exists() and _final_with(folder, settings)


def _final_with(folder: Path, settings: dict[str, Any] | None) -> bool:
    """Whether the fine-tune in `folder` is a final one, with these settings (None: any settings)."""
    info = read_json(folder / FINETUNE_FILE)
    return info.get("mode") == "final" and (settings is None or info.get("settings") == settings)


def read_member(folder: Path, timed: dict[int, dict[str, Any]] | None = None) -> Member:
    """A finished fine-tune as a member; `timed` (`end_latencies`) brings a latency it took from its search's
    end up to date (`finetune_latency`)."""
    metrics = read_json(folder / METRICS_FILE)
    try:
        return _member(folder, {**metrics, **finetune_latency(metrics, timed or {})})
    except (KeyError, TypeError, ValueError) as error:
        raise RunError(f"{folder / METRICS_FILE} lacks a fine-tune's figures ({error!r}); fine-tune it again") from None


def _member(folder: Path, metrics: dict[str, Any]) -> Member:
    return Member(
        number=int(metrics["trial"]),
        folder=folder,
        test_accuracy=float(metrics["test_accuracy"]),
        test_size=int(metrics["test_size"]),
        val_accuracy=metrics.get("val_accuracy"),
        macs=int(metrics["macs"]),
        params=int(metrics["params"]),
        latency_ms=metrics.get("latency_ms"),
        epochs=int(metrics["epochs"]),
        train_s=float(metrics["train_s"]),
    )


@dataclass(frozen=True)
class Shipped:
    """What RUN/finetune/front.json asked for and what of it has finished."""

    members: list[int]  # the front members named, cheapest first
    settings: dict[str, Any]
    finished: list[Member]  # those finished with these settings, cheapest first

    @property
    def complete(self) -> bool:
        return bool(self.members) and len(self.finished) == len(self.members)

    @property
    def front(self) -> list[Member]:
        """The finished members no other beats on both test accuracy and MACs, cheapest first."""
        return shipped_front(self.finished)

    @property
    def picks(self) -> dict[int, str]:
        """Member number -> 'best', 'knee' or both, on the shipped front."""
        return front_picks(self.front)


def read_shipped(run_dir: RunDir) -> Shipped | None:
    """The shipped front of a run, or None when `finetune --front` never ran there."""
    path = run_dir.finetune_root / FRONT_FILE
    if not path.exists():
        return None
    try:
        plan = read_json(path)
        settings, numbers = plan["settings"], [int(n) for n in plan["members"]]
    except (KeyError, TypeError, ValueError) as error:
        raise RunError(f"{path} is not a dsdnas front plan ({error!r}); rerun dsdnas finetune RUN --front") from None
    folders = [run_dir.finetune_dir(number) for number in numbers]
    timed = end_latencies(run_dir)
    finished = [read_member(folder, timed) for folder in folders if finished_with(folder, settings)]
    return Shipped(numbers, settings, sorted(finished, key=_by_cost))


def finetuned_members(run_dir: RunDir) -> list[Member]:
    """Every finished final fine-tune of a trial (RUN/finetune/<n>/), whatever its settings, cheapest first."""
    root = run_dir.finetune_root
    folders = [f for f in root.iterdir() if f.name.isdigit()] if root.is_dir() else []
    timed = end_latencies(run_dir)
    members = [read_member(f, timed) for f in folders if finetune_finished(f) and _final_with(f, None)]
    return sorted(members, key=_by_cost)


def _by_cost(member: Member) -> tuple[int, int]:
    return (member.macs, member.number)


def shipped_front(members: list[Member], cost: str = "macs") -> list[Member]:
    """Members on the front of test accuracy (higher) against `cost` (macs or params, lower), cheapest first."""
    if not members:
        return []
    losses = np.array([[-member.test_accuracy, float(getattr(member, cost))] for member in members])
    on_front = _fast_non_domination_rank(losses) == 0
    return sorted((m for m, keep in zip(members, on_front, strict=True) if keep), key=_by_cost)


def choose_member(
    shipped: Shipped, *, pick: str | None, max_latency_ms: float | None, max_macs: float | None
) -> Member:
    """The member export ships: best or knee of the shipped front by test accuracy, or the most
    accurate within the budgets (fewer MACs break a tie)."""
    if max_latency_ms is not None or max_macs is not None:
        within = [
            m
            for m in shipped.finished
            if (max_latency_ms is None or (m.latency_ms is not None and m.latency_ms <= max_latency_ms))
            and (max_macs is None or m.macs <= max_macs)
        ]
        if not within:
            cheapest = min(shipped.finished, key=lambda m: (m.macs, m.latency_ms or 0.0))
            given = {"--max-latency-ms": max_latency_ms, "--max-macs": max_macs}
            budget = " ".join(f"{flag} {value:g}" for flag, value in given.items() if value is not None)
            raise RunError(
                f"no fine-tuned front member fits {budget}: the "
                f"cheapest, trial {cheapest.number}, has {cheapest.macs:,} MACs and "
                f"{cheapest.latency_ms if cheapest.latency_ms is not None else '?'} ms (as its fine-tune records it)"
            )
        return max(within, key=lambda m: (m.test_accuracy, -m.macs))
    front = shipped.front
    return knee(front) if pick == "knee" else best(front)
