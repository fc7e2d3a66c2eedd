"""A trained model on disk: a search trial's folder or a fine-tune folder.

Both hold arch.json, weights.safetensors and metrics.json. A search trial takes its
dataset, class names and normalization from the run's settings; a fine-tune folder
carries its own in finetune.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from dsdnas.errors import RunError
from dsdnas.nas.datasets.device_data import Normalizer
from dsdnas.nas.files import load_weights, read_json
from dsdnas.nas.model.arch import Arch, load_arch
from dsdnas.nas.model.builder import Net, build_model
from dsdnas.nas.runs.rundir import ARCH_FILE, FINETUNE_FILE, METRICS_FILE, WEIGHTS_FILE, RunDir


@dataclass
class StoredModel:
    folder: Path
    arch: Arch
    metrics: dict[str, Any]
    dataset: str
    class_names: list[str]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    trial: int
    study: str
    finetuned: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    image_size: int | None = None  # how a folder: dataset was read
    color: str = "auto"

    @property
    def weights_path(self) -> Path:
        return self.folder / WEIGHTS_FILE

    def build(self) -> Net:
        """The model with its stored weights, in eval mode, on the CPU."""
        model = build_model(self.arch)
        model.load_state_dict(load_weights(self.weights_path))
        return model.eval()

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images to the normalized floats this model was trained on, on the CPU."""
        return Normalizer(self.mean, self.std)(images)


def is_finetune_dir(path: Path) -> bool:
    return (Path(path) / FINETUNE_FILE).exists()


def _read(folder: Path, source: dict[str, Any], trial: int, study: str, finetuned: bool) -> StoredModel:
    """A StoredModel from `folder`; `source` holds the dataset and normalization it was trained with."""
    return StoredModel(
        folder=folder,
        arch=load_arch(str(folder / ARCH_FILE)),
        metrics=read_json(folder / METRICS_FILE),
        dataset=source["dataset"],
        class_names=list(source["class_names"]),
        mean=tuple(source["mean"]),
        std=tuple(source["std"]),
        trial=trial,
        study=study,
        finetuned=finetuned,
        info=source if finetuned else {},
        image_size=source.get("image_size"),
        color=source.get("color", "auto"),
    )


def load_trial_model(run_dir: RunDir, number: int, meta: dict[str, Any]) -> StoredModel:
    folder = run_dir.trial_dir(number)
    if not (folder / WEIGHTS_FILE).exists():
        raise RunError(f"{folder} has no {WEIGHTS_FILE}: trial {number} was not trained to completion")
    return _read(folder, meta["settings"], number, meta["study"], finetuned=False)


def load_finetune_model(folder: Path) -> StoredModel:
    folder = Path(folder)
    if not is_finetune_dir(folder):
        raise RunError(f"{folder} is not a dsdnas fine-tune folder (no {FINETUNE_FILE})")
    info = read_json(folder / FINETUNE_FILE)
    if not (folder / WEIGHTS_FILE).exists():
        raise RunError(f"{folder} has no {WEIGHTS_FILE} yet: the fine-tune has not finished; rerun with --resume")
    return _read(folder, info, int(info["trial"]), info["study"], finetuned=True)
