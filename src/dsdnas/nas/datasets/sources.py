"""Datasets by name, decoded once into uint8 tensors (N, C, H, W).

Names:
  mnist-sample    bundled: 4,000 train / 1,000 test real MNIST digits, works offline.
  mnist           torchvision's MNIST files (see `idx`).
  fashion-mnist   torchvision's Fashion-MNIST files; Debian's dataset-fashion-mnist too.
  folder:PATH     ImageFolder layout (PATH/train and PATH/test, or one folder to split).
  npz:PATH        arrays x_train, y_train, x_test, y_test (and optional class_names).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import torch

from dsdnas.errors import DataError
from dsdnas.nas.datasets.base import Dataset
from dsdnas.nas.datasets.folder import load_folder
from dsdnas.nas.datasets.idx import MNIST_CLASSES, TORCHVISION_NAMES, load_torchvision
from dsdnas.nas.datasets.splits import stratified_split

BUILTIN_DATASETS = ("mnist-sample", "mnist", "fashion-mnist")


def _first_index(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def pixels_to_uint8(x: np.ndarray, what: str) -> np.ndarray:
    """Integer images must be 0-255 and are kept; float images must be finite and in [0, 1] and are scaled by 255.

    Nothing is guessed: anything else is a DataError naming the array, how many values
    are wrong and where the first one is.
    """
    if x.dtype == np.uint8:
        return x
    if np.issubdtype(x.dtype, np.floating):
        bad = ~np.isfinite(x)
        if bad.any():
            raise DataError(
                f"{what} has {int(bad.sum()):,} NaN or infinite values (the first at index {_first_index(bad)}); "
                f"fix or drop those images"
            )
        outside = (x < 0) | (x > 1)
        if outside.any():
            at = _first_index(outside)
            whole = bool(np.all(x == np.round(x))) and x.min() >= 0 and x.max() <= 255
            hint = (
                "; they look like 0-255 pixels stored as floats: convert them with x.astype(np.uint8)"
                if whole
                else "; divide by the maximum or clip them"
            )
            raise DataError(
                f"{what} has {int(outside.sum()):,} values outside [0, 1] (e.g. {float(x[at]):g} at index {at}); "
                f"float images must be in [0, 1]{hint}"
            )
        return np.round(x * 255.0).astype(np.uint8)
    if np.issubdtype(x.dtype, np.integer) and not np.issubdtype(x.dtype, np.bool_):
        outside = (x < 0) | (x > 255)
        if outside.any():
            at = _first_index(outside)
            raise DataError(
                f"{what} has {int(outside.sum()):,} values outside 0-255 (e.g. {int(x[at])} at index {at}); "
                f"integer images must be 0-255"
            )
        return x.astype(np.uint8)
    raise DataError(f"{what} has dtype {x.dtype}; give uint8 0-255 or floats in [0, 1]")


def _as_tensors(name: str, x: np.ndarray, y: np.ndarray, *, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Images to uint8 (N, C, H, W); accepts (N, H, W), (N, H, W, C) and (N, C, H, W)."""
    x = pixels_to_uint8(x, f"{name}: x_{split}")  # first: indices in errors are the user's own
    if x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4 and x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3):
        x = x.transpose(0, 3, 1, 2)
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise DataError(f"{name}: x_{split} has shape {x.shape}; expected (N, H, W), (N, H, W, C) or (N, C, H, W)")
    y = np.asarray(y).reshape(-1)
    if len(y) != len(x):
        raise DataError(f"{name}: x_{split} has {len(x)} images but y_{split} has {len(y)} labels")
    if not np.issubdtype(y.dtype, np.integer) or (y.size and y.min() < 0):
        raise DataError(f"{name}: y_{split} must hold integer class indices >= 0")
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y.astype(np.int64))


def _from_arrays(name: str, arrays, class_names: list[str] | None = None) -> Dataset:
    missing = [key for key in ("x_train", "y_train", "x_test", "y_test") if key not in arrays]
    if missing:
        raise DataError(f"{name}: missing array(s) {', '.join(missing)}; expected x_train, y_train, x_test, y_test")
    x_train, y_train = _as_tensors(name, arrays["x_train"], arrays["y_train"], split="train")
    x_test, y_test = _as_tensors(name, arrays["x_test"], arrays["y_test"], split="test")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataError(
            f"{name}: train images are {tuple(x_train.shape[1:])} but test images are {tuple(x_test.shape[1:])}"
        )
    num_classes = int(max(y_train.max(), y_test.max())) + 1 if len(y_train) else 0
    if class_names is None and "class_names" in arrays:
        class_names = [str(v) for v in arrays["class_names"]]
    class_names = class_names or [str(i) for i in range(num_classes)]
    if num_classes > len(class_names) or num_classes < 2:
        raise DataError(f"{name}: labels run 0..{num_classes - 1} but there are {len(class_names)} class names")
    return Dataset(name, x_train, y_train, x_test, y_test, class_names)


def load_mnist_sample() -> Dataset:
    with resources.as_file(resources.files("dsdnas") / "data" / "mnist_sample.npz") as path, np.load(path) as arrays:
        return _from_arrays("mnist-sample", arrays, MNIST_CLASSES)


def load_npz(path: str) -> Dataset:
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return _from_arrays(f"npz:{path}", {key: arrays[key] for key in arrays.files})
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read npz file {path}: {error}") from None


def locate(name: str, data_dir: str | None = None) -> str:
    """The dataset name with a folder: or npz: path made absolute, found again under `data_dir` if it moved.

    A run records the absolute path, so it works from any directory; `--data-dir NEW`
    finds NEW/<last part of the path> (or NEW itself) when the data was moved.
    """
    kind, _, path = name.partition(":")
    if kind not in ("folder", "npz") or not path:
        return name
    recorded = Path(path).expanduser().resolve()
    candidates = [recorded]
    if data_dir:
        candidates += [Path(data_dir).expanduser().resolve() / recorded.name, Path(data_dir).expanduser().resolve()]
    for candidate in candidates:
        if candidate.is_dir() if kind == "folder" else candidate.is_file():
            return f"{kind}:{candidate}"
    where = f" nor under --data-dir {data_dir}" if data_dir else "; if it moved, pass --data-dir NEW_LOCATION"
    raise DataError(f"{kind}:{recorded}: no such {'directory' if kind == 'folder' else 'file'}{where}")


def load_dataset(
    name: str,
    *,
    data_dir: str | None = None,
    image_size: int | None = None,
    color: str = "auto",
    test_fraction: float = 0.2,
    seed: int = 0,
) -> Dataset:
    """Load a dataset by name (see the module docstring) into uint8 CPU tensors."""
    name = locate(name, data_dir)
    if name == "mnist-sample":
        return load_mnist_sample()
    if name in TORCHVISION_NAMES:
        return load_torchvision(name, data_dir)
    if name.startswith("npz:"):
        return load_npz(name[4:])
    if name.startswith("folder:"):
        return load_folder(name[7:], image_size=image_size, color=color, test_fraction=test_fraction, seed=seed)
    raise DataError(f"unknown dataset {name!r}; use one of {', '.join(BUILTIN_DATASETS)}, folder:PATH or npz:PATH")


def limit_train(dataset: Dataset, limit: int | None, seed: int) -> Dataset:
    """A stratified subset of `limit` training images (the test split is kept)."""
    if limit is None or limit >= len(dataset.y_train):
        return dataset
    if limit < dataset.num_classes:
        raise DataError(f"--train-limit {limit} is below the number of classes ({dataset.num_classes})")
    _, keep = stratified_split(dataset.y_train, limit / len(dataset.y_train), seed)
    return Dataset(
        dataset.name, dataset.x_train[keep], dataset.y_train[keep], dataset.x_test, dataset.y_test, dataset.class_names
    )
