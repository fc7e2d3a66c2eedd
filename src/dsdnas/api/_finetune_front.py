"""`dsdnas.finetune_front(...)`: fine-tune every member of the Pareto front (or K of them), one after another."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dsdnas.api._finetune import FinetuneResult, finetune, training_settings
from dsdnas.api._runs import load_run
from dsdnas.api.config import FinetuneConfig, make_config
from dsdnas.errors import RunError
from dsdnas.nas.files import write_json
from dsdnas.nas.search.location import hide_password
from dsdnas.nas.search.results import pareto_trials
from dsdnas.nas.search.shipped import FRONT_FILE, Member, Shipped, finished_with, read_shipped, resumable_with, spread


@dataclass(frozen=True)
class MemberEvent:
    """What `on_member` is told: a member starts, finishes, or is skipped as already fine-tuned."""

    index: int  # 1-based, in the order the members are trained (cheapest first)
    total: int
    trial: int
    what: str  # "start", "done", "skipped"
    result: FinetuneResult | None = None  # for "done"
    resumed: bool = False  # for "start": going on from the checkpoint an interrupted fine-tune left


@dataclass
class FrontFinetuneResult:
    run_dir: Path
    members: list[int]  # the front members fine-tuned or found fine-tuned, cheapest first
    trained: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # already fine-tuned with the same settings
    shipped: Shipped | None = None
    storage: str | None = None  # the --storage URL, password masked; None: RUN/study.db

    @property
    def front(self) -> list[Member]:
        """The shipped front: fine-tuned members no other beats on test accuracy and MACs."""
        return self.shipped.front if self.shipped else []


def finetune_front(
    run: str | Path,
    /,
    *,
    config: FinetuneConfig | None = None,
    on_member: Callable[[MemberEvent], None] | None = None,
    on_epoch: Callable[[Any], None] | None = None,
    **options: Any,
) -> FrontFinetuneResult:
    """Fine-tune each Pareto member (`top=K`: K spread over the cost range) as `finetune(trial=n)` does.

    Members already fine-tuned with the same settings are skipped, and one a kill interrupted
    goes on from its last epoch, so calling this again after a kill loses at most that epoch.
    `finetune_front("runs/demo", top=5, epochs=15)`.
    """
    config = make_config(FinetuneConfig, config, options)
    config = replace(config, front=config.front or config.top is None).validate()
    opened = load_run(run, config.storage)
    front = pareto_trials(opened.study)
    if not front:
        raise RunError(f"{opened.run_dir.root} has no trained Pareto member yet; run dsdnas search first")
    members = spread(front, config.top) if config.top is not None else front
    settings = training_settings(config)
    run_dir = opened.run_dir
    run_dir.finetune_root.mkdir(parents=True, exist_ok=True)
    plan = {"members": [m.number for m in members], "settings": settings, "top": config.top}
    write_json(run_dir.finetune_root / FRONT_FILE, plan)
    shown = hide_password(config.storage) if config.storage else None
    result = FrontFinetuneResult(run_dir.root, plan["members"], storage=shown)
    tell = on_member or (lambda event: None)
    single = replace(config, front=False, top=None, pick=None)
    for index, member in enumerate(members, start=1):
        folder = run_dir.finetune_dir(member.number)
        event = MemberEvent(index, len(members), member.number, "skipped")
        if finished_with(folder, settings):
            result.skipped.append(member.number)
            tell(event)
            continue
        resume = resumable_with(folder, settings)
        tell(replace(event, what="start", resumed=resume))
        tuned = finetune(run, config=replace(single, trial=member.number, resume=resume), on_epoch=on_epoch)
        result.trained.append(member.number)
        tell(replace(event, what="done", result=tuned))
    result.shipped = read_shipped(run_dir)
    return result
