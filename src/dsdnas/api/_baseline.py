"""`dsdnas.baseline(...)`: a reference model trained on a run's own data and split, profiled like a candidate.

Scored on the run's validation split by default, so it sits beside the candidates on the
front; with `test=True` it trains on all of train and is scored once on the test split,
the way `dsdnas finetune` scores a chosen candidate.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from dsdnas.api._runs import Run, load_dataset_cached, load_run, slug
from dsdnas.api.config import BaselineConfig, make_config
from dsdnas.errors import DsdnasError
from dsdnas.nas.baselines.pretrained import default_state_dict, load_pretrained, read_state_dict
from dsdnas.nas.baselines.zoo import Reference, build_reference, frozen_parts
from dsdnas.nas.datasets.device_data import DeviceData, DeviceSplit, to_device
from dsdnas.nas.datasets.sources import limit_train
from dsdnas.nas.files import save_weights, write_json
from dsdnas.nas.hardware import machine_info, resolve_device
from dsdnas.nas.model.costs import reference_costs
from dsdnas.nas.runs.rundir import BASELINE_FILE, METRICS_FILE, WEIGHTS_FILE
from dsdnas.nas.training.finetune import recipe
from dsdnas.nas.training.trainer import TrainConfig, Trainer, evaluate


@dataclass
class BaselineResult:
    out_dir: Path
    metrics: dict[str, Any]


def baseline(
    run: str | Path, /, *, config: BaselineConfig | None = None, on_epoch=None, **options: Any
) -> BaselineResult:
    """Train and profile a reference model on the run's data; see `dsdnas baseline --help`.

    `on_epoch(stats)` is called after every epoch. Pass a `BaselineConfig`, or its fields as
    keywords: `baseline("runs/demo", model="resnet18", epochs=3)`.
    """
    config = make_config(BaselineConfig, config, options).validate()
    opened = load_run(run, config.storage)
    device = resolve_device(config.device)
    data, scored, dataset_name = _data(opened, config, device)
    reference = build_reference(
        config.model, data.input_shape, data.num_classes, seed=config.seed, hidden=config.hidden
    )
    notes = _pretrain(reference, config)
    # Before training, as for candidates.
    threads = config.latency_threads or opened.meta.get("latency_threads")  # the run's, as its candidates'
    costs = reference_costs(reference.model, data.input_shape, device, runtime=config.latency_runtime, threads=threads)
    train = _train_config(config, data)
    trainer = Trainer(reference.model, data, train, frozen=frozen_parts(reference, config.freeze))
    result = trainer.run(on_epoch=on_epoch)
    if result.failure is not None:
        raise DsdnasError(f"baseline {config.model} stopped: {result.failure}; try a lower --lr")
    _, accuracy, _ = evaluate(trainer.final_model, data, scored)
    out = opened.run_dir.baselines_root / (slug(reference.name) + ("-test" if config.test else ""))
    metrics = {
        "model": reference.name,  # mlp-h64: the hidden width is part of what the reference is
        "split": "test" if config.test else "validation",
        "accuracy": accuracy,
        "size": len(scored),
        "epochs": len(result.history),
        "train_s": result.seconds,
        "history": [asdict(stats) for stats in result.history],
        "dataset": dataset_name,
        **costs,
        "device": str(device),
        "machine": machine_info(device),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    metrics["weights_sha256"] = save_weights(out / WEIGHTS_FILE, trainer.final_model.state_dict())
    write_json(out / METRICS_FILE, metrics)
    write_json(out / BASELINE_FILE, _provenance(config, reference, notes=notes, train=train))
    return BaselineResult(out, metrics)


def _data(run: Run, config: BaselineConfig, device: torch.device) -> tuple[DeviceData, DeviceSplit, str]:
    """The run's data on the device and the split the baseline is scored on."""
    settings = run.study.user_attrs["settings"]
    dataset = load_dataset_cached(
        settings["dataset"],
        data_dir=config.data_dir,
        image_size=settings.get("image_size"),
        color=settings.get("color", "auto"),
    )
    if config.test:  # like dsdnas finetune: all of train (validation included), scored once on test
        data = to_device(dataset, device, val_fraction=0.0)
        return data, DeviceSplit(dataset.x_test.to(device), dataset.y_test.to(device)), dataset.name
    limited = limit_train(dataset, settings.get("train_limit"), settings["seed"])
    data = to_device(
        limited, device, val_fraction=settings["val_fraction"], seed=settings["seed"]
    )  # the candidates' own split
    return data, data.val, dataset.name


def _pretrain(reference: Reference, config: BaselineConfig) -> list[str]:
    if config.weights is None:
        return []
    state = default_state_dict(config.model) if config.weights == "DEFAULT" else read_state_dict(config.weights)
    return load_pretrained(reference, state, f"--weights {config.weights}")


def _train_config(config: BaselineConfig, data: DeviceData) -> TrainConfig:
    """The fine-tune recipe; weight averaging when scored on test."""
    return recipe(
        epochs=config.epoch_count,
        batch_size=config.batch_size,
        lr=config.lr,
        label_smoothing=config.label_smoothing,
        augment=config.augment,
        seed=config.seed,
        train_size=len(data.train),
        ema=config.test,
    )


def _provenance(config: BaselineConfig, reference: Reference, *, notes: list[str], train: TrainConfig) -> dict:
    return {
        "model": config.model,
        "weights": config.weights or "none (trained from scratch)",
        "freeze": config.freeze,
        "changes": reference.changes,
        "weight_notes": notes,
        "classifier": reference.classifier,
        "config": asdict(train),
    }
