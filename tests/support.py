"""Helpers shared by the tests: one MAC oracle, one image-folder writer, a scripted trial,
synthetic trials for reports and benchmarks, the options of a fast real search, and the
export oracle (the shipped files against the built model fed images normalised by hand)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import torch
from optuna.trial import TrialState
from PIL import Image
from typer.testing import CliRunner

from dsdnas.nas.files import load_weights
from dsdnas.nas.model.arch import Arch, conv_output_size
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.runs.export import import_module_from
from dsdnas.search_spaces import get_space

# A real search that takes seconds: the bundled sample, the tiny space, 1 epoch.
FAST = {"dataset": "mnist-sample", "space": "dsd-tiny", "epochs": 1, "device": "cpu", "train_limit": 600}
FAST_ARGS = [
    "--dataset",
    "mnist-sample",
    "--space",
    "dsd-tiny",
    "--epochs",
    "1",
    "--device",
    "cpu",
    "--train-limit",
    "600",
    "--quiet",
]


# What --budget N counts, by the README (trained, reused, stopped at a rung), as the study's own trial
# states and status attributes say it: an oracle apart from TrialRecord.counted.
EVALUATED = {(TrialState.COMPLETE, "trained"), (TrialState.COMPLETE, "reused"), (TrialState.PRUNED, "stopped")}


def stderr_apart_runner() -> CliRunner:
    """A CliRunner whose result keeps stderr apart from stdout on every Click we support.

    Click 8.2 always keeps them apart and removed ``mix_stderr``; Click 8.1 (the floor that
    typer 0.15 installs) mixes them unless told not to.
    """
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


def evaluated_in_study(study: optuna.Study) -> int:
    return sum((trial.state, trial.user_attrs.get("status")) in EVALUATED for trial in study.trials)


def read_trials_csv(run: Path) -> pd.DataFrame:
    """A run's trials.csv with each float read back exactly as written, so a figure equals its JSON twin.
    pandas 2's default parser can be off by one unit in the last place (CI's floors install pandas 2.0);
    pandas 3 reads exactly by default and deprecates the option."""
    exact = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
    return pd.read_csv(run / "trials.csv", **exact)


def evaluated_in_csv(run: Path) -> int:
    return int(read_trials_csv(run)["status"].isin(["trained", "reused", "stopped"]).sum())


def block_macs(kind: str, c_in: int, c_out: int, kernel: int, out_size: int, out_width: int | None = None) -> int:
    """Multiply-adds of one block on an out_size x out_width (square by default) output map, by the textbook
    formula."""
    pixels = out_size * (out_size if out_width is None else out_width)
    if kind == "standard":
        return pixels * c_out * c_in * kernel * kernel
    return pixels * c_in * kernel * kernel + pixels * c_in * c_out  # depthwise, then pointwise


def analytic_macs(arch: Arch) -> int:
    """Conv and linear multiply-adds of a whole architecture: the oracle for fvcore's count."""
    height, width = (conv_output_size(side, arch.stem.stride) for side in arch.input_shape[1:])
    macs = block_macs("standard", arch.input_shape[0], arch.stem.channels, arch.stem.kernel, height, width)
    channels = arch.stem.channels
    for block in arch.blocks:
        height, width = conv_output_size(height, block.stride), conv_output_size(width, block.stride)
        macs += block_macs(block.kind, channels, block.channels, block.kernel, height, width)
        channels = block.channels
    head = arch.head
    features = {"gap": channels, "flatten": channels * height * width, "pool": channels * head.pool**2}[head.kind]
    if head.hidden:
        return macs + features * head.hidden + head.hidden * arch.num_classes
    return macs + features * arch.num_classes


def write_image_folder(root: Path, images_by_class: dict[str, np.ndarray]) -> Path:
    """PNG files in ImageFolder layout: root/<class>/<i>.png, one per (H, W) or (H, W, 3) uint8 array."""
    for name, images in images_by_class.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for index, image in enumerate(images):
            Image.fromarray(image, "L" if image.ndim == 2 else "RGB").save(root / name / f"{index}.png")
    return root


def noise_images(mean: float, count: int, size: int = 10, rgb: bool = False, seed: int = 0) -> np.ndarray:
    """`count` noisy uint8 images around a grey level: tiny, separable classes."""
    rng = np.random.default_rng(seed)
    shape = (count, size, size, 3) if rgb else (count, size, size)
    return np.clip(rng.normal(mean, 10, shape), 0, 255).astype(np.uint8)


class ScriptedTrial:
    """A stand-in for optuna's Trial that picks choices from a fixed script (index 0 by default) or at random."""

    def __init__(self, picks: dict[str, int] | None = None, rng: torch.Generator | None = None):
        self.picks = picks or {}
        self.rng = rng
        self.params: dict[str, list] = {}

    def suggest_categorical(self, name, choices):
        self.params[name] = list(choices)
        if self.rng is not None:
            return choices[int(torch.randint(len(choices), (1,), generator=self.rng))]
        return choices[self.picks.get(name, 0)]


def add_synthetic_trials(study: optuna.Study, count: int, seed: int = 0, space: str = "dsd-mnist") -> None:
    """Sample `count` architectures through the study and tell it plausible scores."""
    rng = random.Random(seed)
    search_space = get_space(space)
    study.set_user_attr("settings", {"objectives": ["accuracy", "macs"], "dataset": "synthetic", "space": space})
    for _ in range(count):
        trial = study.ask()
        arch = search_space.sample(trial, (1, 28, 28), 10)
        macs = analytic_macs(arch)
        accuracy = min(0.995, 0.85 + 0.02 * (macs / 1e6) ** 0.3 + rng.gauss(0, 0.01))
        latency = 0.3 + macs / 5e6 + 0.1 * len(arch.blocks) + rng.random() * 0.05
        attrs = {
            "arch": arch.to_dict(),
            "notation": arch.notation,
            "arch_hash": arch.hash,
            "status": "trained",
            "val_accuracy": accuracy,
            "macs": macs,
            "params": macs // 50,
            "latency_ms": latency,
            "val_accuracy_history": [accuracy - 0.05, accuracy - 0.01, accuracy],
        }
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
        study.tell(trial, [accuracy, macs])


def shipped_outputs(out: Path, images: torch.Tensor) -> torch.Tensor:
    """What a user of the exported files gets: model.py's load(), fed raw pixels scaled to [0, 1]."""
    with torch.inference_mode():
        return import_module_from(out / "model.py").load(out / "weights.safetensors")(images.float() / 255)


def normalised_by_hand(images: torch.Tensor, mean, std) -> torch.Tensor:
    """Raw uint8 images scaled to [0, 1] and normalised per channel, written here apart from the exporter."""
    shape = (1, len(mean), 1, 1)
    return (images.float() / 255 - torch.tensor(mean).view(shape)) / torch.tensor(std).view(shape)


def by_hand_outputs(folder: Path, arch: Arch, images: torch.Tensor, mean, std) -> torch.Tensor:
    """The built model with the stored weights, fed the images normalised by hand with the training
    mean and std: an oracle apart from the exporter's own check."""
    built = build_model(arch, seed=0).eval()
    built.load_state_dict(load_weights(folder / "weights.safetensors"))
    with torch.inference_mode():
        return built(normalised_by_hand(images, mean, std))
