"""Fine-tuning: train a chosen architecture properly, or carry it to new data.

Final mode trains on all of train (search's validation split included) with a longer
schedule, label smoothing, random shifts and weight averaging, then touches the test
split once. Transfer mode starts from trained weights, replaces the head when the class
count differs, trains what `freeze` leaves open, early-stops on a validation split and
keeps the best epoch.

After every epoch the whole trainer state (weights, optimizer, schedule, RNG) is saved
to checkpoint.pt, so `resume` continues bit-exactly on the CPU.
"""

from __future__ import annotations

import copy
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from dsdnas.errors import DsdnasError, RunError
from dsdnas.nas.datasets.device_data import DeviceData, DeviceSplit
from dsdnas.nas.files import atomic_write, read_json, save_weights, write_json, write_text
from dsdnas.nas.runs.rundir import CHECKPOINT_FILE, CURVES_FILE, FINETUNE_FILE, METRICS_FILE, WEIGHTS_FILE
from dsdnas.nas.training.trainer import EpochStats, TrainConfig, Trainer, evaluate, steps_per_epoch


def parse_freeze(text: str) -> tuple[str, int]:
    """none | head | partial:K  ->  (mode, K)."""
    if text in ("none", "head"):
        return text, 0
    match = re.fullmatch(r"partial:(\d+)", text)
    if match is None or int(match[1]) < 1:
        raise DsdnasError(f"--freeze {text!r}: use none, head or partial:K with K >= 1")
    return "partial", int(match[1])


def frozen_modules(model: nn.Module, freeze: str) -> tuple[nn.Module, ...]:
    """The modules that stay fixed: all but the head (head), all but the last K blocks and head (partial:K)."""
    mode, count = parse_freeze(freeze)
    if mode == "none":
        return ()
    blocks = list(model.blocks)
    if count > len(blocks):
        raise DsdnasError(f"--freeze {freeze}: the model has only {len(blocks)} blocks")
    trainable_blocks = blocks[len(blocks) - count :] if mode == "partial" else []
    return (model.stem, *(b for b in blocks if b not in trainable_blocks))


def recipe(
    *, epochs: int, batch_size: int, lr: float | None, label_smoothing: float, augment: bool, seed: int,
    train_size: int, ema: bool,
) -> TrainConfig:  # fmt: skip
    """The fine-tune recipe (one-cycle, label smoothing, shifts), with weight averaging over
    about one epoch of steps when `ema`."""
    steps = steps_per_epoch(train_size, batch_size)
    return TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        schedule="onecycle",
        label_smoothing=label_smoothing,
        augment=augment,
        seed=seed,
        ema_decay=min(0.9999, max(0.9, 1 - 1 / steps)) if ema else None,
    )


@dataclass
class FinetunePlan:
    """What to train and where to write it."""

    out_dir: Path
    config: TrainConfig
    info: dict[str, Any]  # written as finetune.json: provenance, dataset, normalization
    freeze: str = "none"
    patience: int | None = None  # early stopping on validation accuracy; None trains all epochs
    resume: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    extra_metrics: dict[str, Any] = field(default_factory=dict)  # costs and provenance for metrics.json
    on_epoch: Callable[[EpochStats], None] | None = None  # told after every epoch (the CLI's progress)


def _save_checkpoint(plan: FinetunePlan, trainer: Trainer, best: dict[str, Any]) -> None:
    state = {"trainer": trainer.state_dict(), "best": best, "history": plan.history}
    atomic_write(plan.out_dir / CHECKPOINT_FILE, lambda partial: torch.save(state, partial))


def _load_checkpoint(plan: FinetunePlan, trainer: Trainer) -> dict[str, Any]:
    path = plan.out_dir / CHECKPOINT_FILE
    if not path.exists():
        raise RunError(f"--resume: {path} does not exist; start without --resume")
    try:  # weights_only: a pickle planted as a checkpoint is refused, never run
        with warnings.catch_warnings():  # torch warns of pickle protocols before refusing a foreign file
            warnings.simplefilter("ignore", UserWarning)
            state = torch.load(path, map_location=trainer.data.device, weights_only=True)
        trainer.load_state_dict(state["trainer"])
        plan.history = list(state["history"])
        return state["best"]
    except Exception as error:  # noqa: BLE001 - torch.load and load_state_dict fail in many ways on a bad file
        first = (str(error).splitlines() or [type(error).__name__])[0][:160]
        raise RunError(
            f"--resume: {path} is corrupt or not this fine-tune's checkpoint ({first}); delete it and start "
            f"again without --resume"
        ) from None


def _check_resume_matches(plan: FinetunePlan) -> None:
    marker = plan.out_dir / FINETUNE_FILE
    if plan.resume and marker.exists():
        changed = _differences(read_json(marker), plan.info, ("trial", "dataset", "config", "freeze"))
        if changed:
            raise RunError(
                f"--resume: {plan.out_dir} was started with other settings ({'; '.join(changed)}); repeat them "
                f"to resume it, or pass --out NEW_DIR to start a new fine-tune"
            )


def _differences(stored: dict[str, Any], wanted: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    """'config.epochs 1 -> 2' for each setting that differs, nested one level."""
    changed = []
    for key in keys:
        old, new = stored.get(key), wanted.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            changed += [
                f"{key}.{k} {old.get(k)} -> {new.get(k)}" for k in sorted(old | new) if old.get(k) != new.get(k)
            ]
        elif old != new:
            changed.append(f"{key} {old} -> {new}")
    return changed


def run_finetune(model: nn.Module, data: DeviceData, *, test: DeviceSplit, plan: FinetunePlan) -> dict[str, Any]:
    """Train, evaluate once on `test`, write weights, metrics and curves; returns the metrics."""
    _check_resume_matches(plan)
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    if not plan.resume:  # a new fine-tune: an older one's results must never pass for this one's
        for name in (WEIGHTS_FILE, METRICS_FILE, CHECKPOINT_FILE):
            (plan.out_dir / name).unlink(missing_ok=True)
    write_json(plan.out_dir / FINETUNE_FILE, plan.info)
    trainer = Trainer(model, data, plan.config, frozen=frozen_modules(model, plan.freeze))
    best: dict[str, Any] = {"accuracy": -1.0, "epoch": 0, "state": None}
    if plan.resume:
        best = _load_checkpoint(plan, trainer)
    started = time.perf_counter()
    while trainer.epoch < plan.config.epochs:
        result = trainer.run(epochs=1, on_epoch=plan.on_epoch)
        if result.failure:
            raise DsdnasError(f"fine-tune stopped: {result.failure}; try a lower --lr")
        stats: EpochStats = result.history[-1]
        plan.history.append({**stats.__dict__})
        if stats.val_accuracy is not None and stats.val_accuracy > best["accuracy"]:
            state = trainer.final_model.state_dict()
            best = {
                "accuracy": stats.val_accuracy,
                "epoch": stats.epoch,
                "state": {k: v.clone() for k, v in state.items()},
            }
        _save_checkpoint(plan, trainer, best)
        if plan.patience is not None and stats.epoch - best["epoch"] >= plan.patience:
            break
    final = copy.deepcopy(trainer.final_model)
    if best["state"] is not None:  # transfer: keep the best validation epoch
        final.load_state_dict(best["state"])
    return _evaluate_and_write(final, data, test=test, plan=plan, seconds=time.perf_counter() - started, best=best)


def _evaluate_and_write(
    model: nn.Module, data: DeviceData, *, test: DeviceSplit, plan: FinetunePlan, seconds: float, best: dict[str, Any]
) -> dict[str, Any]:
    _, accuracy, predicted = evaluate(model, data, test)
    classes = data.num_classes
    confusion = torch.zeros(classes, classes, dtype=torch.long)
    confusion.index_put_((test.y.cpu(), predicted.cpu()), torch.ones(len(test), dtype=torch.long), accumulate=True)
    per_class = (confusion.diag().float() / confusion.sum(1).clamp_min(1).float()).tolist()
    metrics = {
        "test_accuracy": accuracy,
        "test_size": len(test),  # for its 95% interval
        "per_class_accuracy": dict(zip(plan.info["class_names"], per_class, strict=True)),
        "confusion_matrix": confusion.tolist(),
        "epochs": len(plan.history),
        "best_epoch": best["epoch"] or None,
        "best_val_accuracy": best["accuracy"] if best["state"] is not None else None,
        "train_s": seconds,
        "history": plan.history,
        **{k: plan.info[k] for k in ("trial", "dataset", "mode", "freeze")},
        **plan.extra_metrics,
    }
    metrics.setdefault("val_accuracy", metrics["best_val_accuracy"])
    metrics["weights_sha256"] = save_weights(plan.out_dir / WEIGHTS_FILE, model.state_dict())
    write_json(plan.out_dir / METRICS_FILE, metrics)
    write_text(plan.out_dir / CURVES_FILE, pd.DataFrame(plan.history).to_csv(index=False))
    return metrics
