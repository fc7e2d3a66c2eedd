"""A trained model on disk: a search trial's folder or a fine-tune folder.

Both hold arch.json, weights.safetensors and metrics.json. A search trial takes its
dataset, class names and normalization from the run's settings; a fine-tune folder
carries its own in finetune.json.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from dsdnas.errors import RunError
from dsdnas.nas.datasets.device_data import Normalizer
from dsdnas.nas.files import load_weights, read_json
from dsdnas.nas.hardware import hostname
from dsdnas.nas.model.arch import Arch, load_arch
from dsdnas.nas.model.builder import Net, build_model
from dsdnas.nas.runs.rundir import ARCH_FILE, FINETUNE_FILE, METRICS_FILE, WEIGHTS_FILE, RunDir
from dsdnas.nas.stats import wilson_interval


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
    weights_sha256: str | None = None  # recorded when the weights were written; None for older runs
    chosen_from: str = ""  # how export chose it, when not by the search's front

    @property
    def weights_path(self) -> Path:
        return self.folder / WEIGHTS_FILE

    @property
    def weights_line(self) -> str:
        """Which weights these are, in one line: 'trial 14: fine-tuned weights (...), test 96.30% [95.0, 97.3]'."""
        if self.finetuned:
            score = _with_interval(self.metrics.get("test_accuracy"), self.metrics.get("test_size"))
            how = f"; {self.chosen_from}" if self.chosen_from else ""
            return f"trial {self.trial}: fine-tuned weights ({self.folder}), test {score}{how}"
        score = _with_interval(self.metrics.get("val_accuracy"), self.metrics.get("val_size"))
        run = shlex.quote(str(self.folder.parent.parent))  # RUN/trials/<n>
        how = self.chosen_from or f"`dsdnas finetune {run} --trial {self.trial}` trains it on all the training data"
        return f"trial {self.trial}: search weights, validation {score}; {how}"

    @property
    def retrain_hint(self) -> str:
        if self.finetuned:
            return f"fine-tune trial {self.trial} again (without --resume)"
        return f"train it again with `dsdnas finetune RUN --trial {self.trial}`; export then ships its weights"

    def build(self) -> Net:
        """The model with its stored weights, checked against the recorded hash, in eval mode, on the CPU."""
        model = build_model(self.arch)
        state = load_weights(self.weights_path, self.weights_sha256, self.retrain_hint)
        try:
            model.load_state_dict(state)
        except RuntimeError as error:
            detail = " ".join(str(error).split())[:200]
            raise RunError(
                f"{self.weights_path} does not hold the weights of {self.arch.notation} ({detail}); {self.retrain_hint}"
            ) from None
        return model.eval()

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images to the normalized floats this model was trained on, on the CPU."""
        return Normalizer(self.mean, self.std)(images)


def _with_interval(accuracy: float | None, size: int | None) -> str:
    if accuracy is None:
        return "unknown"
    if not size:
        return f"{100 * accuracy:.2f}%"
    low, high = wilson_interval(accuracy, size)
    return f"{100 * accuracy:.2f}% [{100 * low:.1f}, {100 * high:.1f}]"


def is_finetune_dir(path: Path) -> bool:
    return (Path(path) / FINETUNE_FILE).exists()


def _read(folder: Path, source: dict[str, Any], *, trial: int, study: str, finetuned: bool) -> StoredModel:
    """A StoredModel from `folder`; `source` holds the dataset and normalization it was trained with."""
    metrics = read_json(folder / METRICS_FILE)
    return StoredModel(
        folder=folder,
        arch=load_arch(str(folder / ARCH_FILE)),
        metrics=metrics,
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
        weights_sha256=metrics.get("weights_sha256"),
    )


def load_trial_model(
    run_dir: RunDir, number: int, meta: dict[str, Any], *, sha256: str | None = None, worker: str = "", origin: str = ""
) -> StoredModel:
    """Trial `number`'s model from this run directory; `sha256`, `worker` and `origin` come from the study's record.

    The study's hash wins over the one in metrics.json: a replaced folder cannot vouch for itself.
    """
    folder = run_dir.trial_dir(number)
    if not (folder / WEIGHTS_FILE).exists():
        raise RunError(_missing_files_message(folder, number, worker=worker, origin=origin))
    stored = _read(folder, meta["settings"], trial=number, study=meta["study"], finetuned=False)
    stored.weights_sha256 = sha256 or stored.weights_sha256
    return stored


def _missing_files_message(folder: Path, number: int, *, worker: str, origin: str) -> str:
    if origin and Path(origin) != folder.resolve() or worker and not worker.startswith(f"{hostname()}:"):
        where = f"{worker.rpartition(':')[0] or 'another machine'}:{origin or '?'}"
        return (
            f"trial {number} was trained by worker {worker or '?'}, whose files are at {where}, not in {folder}; "
            f"copy that folder to {folder}, or have every worker share one --artifacts store"
        )
    return f"{folder} has no {WEIGHTS_FILE}: its files were deleted or never finished writing"


def finished_finetune(run_dir: RunDir, number: int, dataset: str) -> Path | None:
    """The fine-tune of trial `number` that export ships: the one on the run's own dataset (final mode,
    RUN/finetune/<n>) when it has finished, else the latest finished transfer (RUN/finetune/<n>-<data>)."""
    own = run_dir.finetune_dir(number)
    if finetune_finished(own) and read_json(own / FINETUNE_FILE).get("dataset") == dataset:
        return own
    root = run_dir.finetune_root
    others = [path for path in root.glob(f"{number}-*") if finetune_finished(path)] if root.is_dir() else []
    if finetune_finished(own):
        others.append(own)
    return max(others, key=lambda path: (path / METRICS_FILE).stat().st_mtime, default=None)


def finetune_finished(folder: Path) -> bool:
    """Whether a fine-tune folder holds all its results (weights written last, metrics beside them)."""
    return all((folder / name).exists() for name in (FINETUNE_FILE, WEIGHTS_FILE, METRICS_FILE))


def load_finetune_model(folder: Path) -> StoredModel:
    folder = Path(folder)
    if not is_finetune_dir(folder):
        raise RunError(f"{folder} is not a dsdnas fine-tune folder (no {FINETUNE_FILE})")
    info = read_json(folder / FINETUNE_FILE)
    if not (folder / WEIGHTS_FILE).exists():
        raise RunError(f"{folder} has no {WEIGHTS_FILE} yet: the fine-tune has not finished; rerun with --resume")
    return _read(folder, info, trial=int(info["trial"]), study=info["study"], finetuned=True)
