"""`dsdnas.finetune(...)`: retrain a chosen architecture, or transfer it to new data."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from torch import nn

from dsdnas.api import load_dataset_cached, load_run, slug
from dsdnas.api_export import resolve_model
from dsdnas.errors import DataError, DsdnasError
from dsdnas.nas.artifacts import StoredModel
from dsdnas.nas.builder import build_model
from dsdnas.nas.data import Dataset
from dsdnas.nas.device import resolve_device
from dsdnas.nas.finetune import FinetunePlan, parse_freeze, run_finetune
from dsdnas.nas.objective import profile_costs
from dsdnas.nas.rundir import write_text
from dsdnas.nas.tensors import DeviceSplit, to_device
from dsdnas.nas.train import TrainConfig, steps_per_epoch


@dataclass
class FinetuneResult:
    out_dir: Path
    metrics: dict[str, Any]


def _adapt_arch(stored: StoredModel, dataset: Dataset):
    """The source architecture for the new data: new class count and image size allowed, channels not."""
    channels, height, width = dataset.input_shape
    if channels != stored.arch.input_shape[0]:
        kind = {1: "grayscale", 3: "RGB"}
        raise DataError(
            f"{dataset.name} has {channels}-channel images but the model takes {stored.arch.input_shape[0]} "
            f"({kind.get(stored.arch.input_shape[0], '?')}); for folder: data pass --color "
            f"{'gray' if stored.arch.input_shape[0] == 1 else 'rgb'}"
        )
    arch = replace(stored.arch, input_shape=(channels, height, width), num_classes=dataset.num_classes)
    problems = arch.infeasible_blocks()
    if problems:
        raise DataError(f"{dataset.name} images are too small for this architecture: {problems[0]}; pass --image-size")
    return arch


def _transfer_model(stored: StoredModel, arch, seed: int) -> nn.Module:
    """Trained weights in the new architecture; a fresh, seeded head when the class count differs."""
    model = build_model(arch, seed=seed)
    state = stored.build().state_dict()
    if arch.num_classes != stored.arch.num_classes:
        state = {k: v for k, v in state.items() if not k.startswith("classifier.")}
    model.load_state_dict(state, strict=False)  # the new head keeps its fresh weights
    return model


def finetune(
    run: str | Path,
    trial: int | None = None,
    pick: str | None = None,
    epochs: int = 30,
    out: str | Path | None = None,
    init: str = "scratch",
    dataset: str | None = None,
    freeze: str = "none",
    resume: bool = False,
    batch_size: int = 64,
    lr: float | None = None,
    label_smoothing: float = 0.1,
    augment: bool = True,
    ema: bool = True,
    patience: int = 5,
    val_fraction: float = 0.1,
    seed: int = 0,
    device: str = "auto",
    storage: str | None = None,
    data_dir: str | None = None,
    image_size: int | None = None,
    color: str = "auto",
) -> FinetuneResult:
    """Retrain (or transfer) a run's chosen model and score it once on the test split."""
    if init not in ("scratch", "search"):
        raise DsdnasError(f"--init {init!r} must be scratch or search")
    if epochs < 1:
        raise DsdnasError(f"--epochs {epochs} must be at least 1")
    parse_freeze(freeze)
    stored = resolve_model(run, trial, pick, storage=storage)
    run_dir, _, _ = load_run(run, storage)
    transfer = dataset is not None and dataset != stored.dataset
    torch_device = resolve_device(device)
    if transfer:
        data = load_dataset_cached(dataset, data_dir, image_size, color)
        arch = _adapt_arch(stored, data)
        model = _transfer_model(stored, arch, seed)
        device_data = to_device(data, torch_device, val_fraction, seed)
        default_out = run_dir.finetune_root / f"{stored.trial}-{slug(dataset)}"
    else:
        if freeze != "none":
            raise DsdnasError("--freeze applies to transfer: pass --dataset with new data")
        data = load_dataset_cached(stored.dataset, data_dir, stored.image_size, stored.color)
        arch = stored.arch
        model = stored.build() if init == "search" else build_model(arch, seed=seed)
        device_data = to_device(data, torch_device, val_fraction=0.0)  # train + validation, no test
        default_out = run_dir.finetune_root / str(stored.trial)
    steps = steps_per_epoch(len(device_data.train), batch_size)
    config = TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        schedule="onecycle",
        label_smoothing=label_smoothing,
        augment=augment,
        seed=seed,
        # EMA over about one epoch of steps; off for transfer, where the best epoch is kept.
        ema_decay=None if transfer or not ema else min(0.9999, max(0.9, 1 - 1 / steps)),
    )
    info = {
        "study": stored.study,
        "trial": stored.trial,
        "dataset": data.name,
        "class_names": data.class_names,
        "mean": list(device_data.mean),
        "std": list(device_data.std),
        "image_size": image_size if transfer else stored.image_size,
        "color": color if transfer else stored.color,
        "mode": "transfer" if transfer else "final",
        "freeze": freeze,
        "init": "search" if transfer else init,
        "config": dict(config.__dict__),
        "source_dataset": stored.dataset,
        "search_val_accuracy": stored.metrics.get("val_accuracy"),
    }
    out_dir = Path(out) if out else default_out
    plan = FinetunePlan(out_dir, config, info, freeze, patience if transfer else None, resume)
    costs = profile_costs(build_model(arch), arch, torch_device)
    plan.extra_metrics = {k: costs[k] for k in ("macs", "params", "latency_ms", "latency_p90_ms")}
    plan.extra_metrics["device"] = str(torch_device)
    if not transfer:  # transfer reports its own best validation accuracy instead
        plan.extra_metrics["val_accuracy"] = stored.metrics.get("val_accuracy")
    test = DeviceSplit(data.x_test.to(torch_device), data.y_test.to(torch_device))
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text(out_dir / "arch.json", arch.to_json())
    return FinetuneResult(out_dir, run_finetune(model, device_data, test, plan))
