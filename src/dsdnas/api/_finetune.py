"""`dsdnas.finetune(...)`: retrain a chosen architecture, or transfer it to new data."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dsdnas.api._export import resolve_model
from dsdnas.api._runs import Run, load_dataset_cached, load_run, slug
from dsdnas.api.config import FinetuneConfig, make_config
from dsdnas.errors import DataError, DsdnasError
from dsdnas.nas.datasets.base import Dataset
from dsdnas.nas.datasets.device_data import DeviceData, DeviceSplit, to_device
from dsdnas.nas.files import write_text
from dsdnas.nas.hardware import cpu_count, hostname, resolve_device
from dsdnas.nas.model.arch import Arch
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.costs import profile_costs
from dsdnas.nas.model.runtimes import DEFAULT_RUNTIME
from dsdnas.nas.runs.artifacts import StoredModel
from dsdnas.nas.runs.rundir import ARCH_FILE
from dsdnas.nas.search.end_latency import FINETUNE_AT_END, end_latencies
from dsdnas.nas.stats import wilson_interval
from dsdnas.nas.training.finetune import FinetunePlan, recipe, run_finetune
from dsdnas.nas.training.trainer import TrainConfig


@dataclass
class FinetuneResult:
    out_dir: Path
    metrics: dict[str, Any]
    notes: list[str] = field(default_factory=list)  # what a transfer had to change, one line each

    @property
    def test_interval(self) -> tuple[float, float]:
        """95% Wilson interval of the test accuracy."""
        return wilson_interval(self.metrics["test_accuracy"], self.metrics["test_size"])


@dataclass
class _Setup:
    """What the fine-tune trains, on which data, and where it writes."""

    transfer: bool
    dataset: Dataset
    arch: Arch
    model: nn.Module
    data: DeviceData
    out_dir: Path
    notes: list[str] = field(default_factory=list)


def finetune(
    run: str | Path, /, *, config: FinetuneConfig | None = None, on_epoch=None, **options: Any
) -> FinetuneResult:
    """Retrain (or transfer) a run's chosen model and score it once on the test split.

    `on_epoch(stats)` is called after every epoch. Pass a `FinetuneConfig`, or its fields as
    keywords: `finetune("runs/demo", pick="best", epochs=15)`.
    """
    config = make_config(FinetuneConfig, config, options).validate()
    if config.front or config.top is not None:
        raise DsdnasError("finetune() fine-tunes one trial; call finetune_front() for --front or --top")
    opened = load_run(run, config.storage)
    stored = resolve_model(opened, config.choice, config.artifacts)
    device = resolve_device(config.device)
    setup = (
        _transfer(config, opened, stored, device=device)
        if _is_transfer(config, stored)
        else _final(config, opened, stored, device=device)
    )
    train = _train_config(config, setup)
    plan = FinetunePlan(
        setup.out_dir,
        train,
        _provenance(config, stored, setup, train=train),
        config.freeze,
        config.patience if setup.transfer else None,
        config.resume,
    )
    runtime = opened.meta.get("latency_runtime", DEFAULT_RUNTIME)
    threads = opened.meta.get("latency_threads")  # None: every core
    # The same model on the same machine: the search's end already timed it (one figure per model).
    timed_on = (hostname(), str(device), runtime, threads or cpu_count())
    timed = {} if setup.transfer else end_latencies(opened.run_dir, timed_on=timed_on)
    at_end = timed.get(stored.trial)
    plan.extra_metrics = _cost_metrics(setup.arch, device, runtime=runtime, threads=threads, at_end=at_end)
    plan.on_epoch = on_epoch
    if not setup.transfer:  # transfer reports its own best validation accuracy instead
        plan.extra_metrics["val_accuracy"] = stored.metrics.get("val_accuracy")
    test = DeviceSplit(setup.dataset.x_test.to(device), setup.dataset.y_test.to(device))
    setup.out_dir.mkdir(parents=True, exist_ok=True)
    write_text(setup.out_dir / ARCH_FILE, setup.arch.to_json())
    metrics = run_finetune(setup.model, setup.data, test=test, plan=plan)
    return FinetuneResult(setup.out_dir, metrics, setup.notes)


def _is_transfer(config: FinetuneConfig, stored: StoredModel) -> bool:
    return config.dataset is not None and config.dataset != stored.dataset


def _final(config: FinetuneConfig, run: Run, stored: StoredModel, *, device: torch.device) -> _Setup:
    """Retrain on the run's own data: all of train (validation included), scored once on test."""
    if config.freeze != "none":
        raise DsdnasError("--freeze applies to transfer: pass --dataset with new data")
    dataset = load_dataset_cached(
        stored.dataset, data_dir=config.data_dir, image_size=stored.image_size, color=stored.color
    )
    model = stored.build() if config.init == "search" else build_model(stored.arch, seed=config.seed)
    data = to_device(dataset, device, val_fraction=0.0)  # train + validation, no test
    out_dir = Path(config.out) if config.out else run.run_dir.finetune_dir(stored.trial)
    return _Setup(False, dataset, stored.arch, model, data, out_dir)


def _transfer(config: FinetuneConfig, run: Run, stored: StoredModel, *, device: torch.device) -> _Setup:
    """Carry the trained model to new data: a new head when the classes differ."""
    dataset = load_dataset_cached(
        config.dataset, data_dir=config.data_dir, image_size=config.image_size, color=config.color
    )
    arch = _adapt_arch(stored, dataset)
    model, notes = _transfer_model(stored, arch, config.seed)
    data = to_device(dataset, device, val_fraction=config.val_fraction, seed=config.seed)
    out_dir = Path(config.out) if config.out else run.run_dir.finetune_dir(stored.trial, slug(config.dataset))
    return _Setup(True, dataset, arch, model, data, out_dir, notes)


def _adapt_arch(stored: StoredModel, dataset: Dataset) -> Arch:
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


def _transfer_model(stored: StoredModel, arch: Arch, seed: int) -> tuple[nn.Module, list[str]]:
    """Trained weights in the new architecture, and what had to start afresh (seeded).

    A new class count re-creates the classifier. A head whose features follow the image
    size (flatten) meets another size with another input width: its hidden layer and, when
    it has none, its classifier are re-created too.
    """
    model = build_model(arch, seed=seed)
    state = stored.build().state_dict()
    fresh, notes = set(), []
    old_features, new_features = stored.arch.head_features(), arch.head_features()
    if new_features != old_features:
        fresh |= {"hidden."} if arch.head.hidden else {"classifier."}
        notes.append(
            f"the {arch.head.kind} head reads {new_features} features on {arch.input_shape[1]}x{arch.input_shape[2]} "
            f"images, not {old_features}: its {'hidden layer' if arch.head.hidden else 'classifier'} starts afresh"
        )
    if arch.num_classes != stored.arch.num_classes:
        fresh.add("classifier.")
        notes.append(f"{arch.num_classes} classes, not {stored.arch.num_classes}: the classifier starts afresh")
    state = {key: value for key, value in state.items() if not key.startswith(tuple(fresh))}
    model.load_state_dict(state, strict=False)  # the re-created layers keep their fresh weights
    return model, notes


def _train_config(config: FinetuneConfig, setup: _Setup) -> TrainConfig:
    return recipe(
        epochs=config.epochs,
        batch_size=config.batch_size,
        lr=config.lr,
        label_smoothing=config.label_smoothing,
        augment=config.augment,
        seed=config.seed,
        train_size=len(setup.data.train),
        ema=config.ema and not setup.transfer,  # off for transfer, where the best epoch is kept
    )


def _provenance(config: FinetuneConfig, stored: StoredModel, setup: _Setup, *, train: TrainConfig) -> dict[str, Any]:
    """finetune.json: where the model came from and what it was trained on."""
    return {
        "study": stored.study,
        "trial": stored.trial,
        "dataset": setup.dataset.name,
        "class_names": setup.dataset.class_names,
        "mean": list(setup.data.mean),
        "std": list(setup.data.std),
        "image_size": config.image_size if setup.transfer else stored.image_size,
        "color": config.color if setup.transfer else stored.color,
        "mode": "transfer" if setup.transfer else "final",
        "freeze": config.freeze,
        "init": "search" if setup.transfer else config.init,
        "config": asdict(train),
        "source_dataset": stored.dataset,
        "changes": setup.notes,
        "search_val_accuracy": stored.metrics.get("val_accuracy"),
        "settings": training_settings(config),
    }


# The options that change what a final fine-tune trains; `finetune --front` skips a member
# whose folder finished with the same ones.
TRAINING_SETTINGS = ("epochs", "batch_size", "lr", "label_smoothing", "augment", "ema", "seed", "init")


def training_settings(config: FinetuneConfig) -> dict[str, Any]:
    return {name: getattr(config, name) for name in TRAINING_SETTINGS}


def _cost_metrics(
    arch: Arch, device: torch.device, *, runtime: str, threads: int | None, at_end: dict[str, Any] | None
) -> dict[str, Any]:
    """The fine-tuned model's costs. Its latency: `at_end`, the figure the end of its search timed on this
    machine and device in its runtime, when there is one; else timed here in the search's runtime and threads
    (a table's runtime, when the search predicted latencies: this machine is not the table's device, and the
    figure says so)."""
    costs = profile_costs(build_model(arch), arch, device, runtime=runtime, threads=threads, timed=at_end is None)
    latency = {"latency_ms": costs.latency_ms, "latency_p90_ms": costs.latency_p90_ms, "threads": costs.threads}
    if at_end is not None:  # an end from before threads were kept timed on every core
        latency = {key: at_end.get(key) for key in ("latency_ms", "latency_p90_ms", "threads")}
    return {
        "macs": costs.macs,
        "params": costs.params,
        **latency,
        "latency_source": runtime if at_end is not None else costs.latency_source,
        "latency_when": FINETUNE_AT_END if at_end is not None else "when fine-tuned",
        "device": str(device),
    }
