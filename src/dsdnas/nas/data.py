"""Datasets by name, decoded once into uint8 tensors (N, C, H, W).

Names:
  mnist-sample    bundled: 4,000 train / 1,000 test real MNIST digits, works offline.
  mnist           torchvision's MNIST files.
  fashion-mnist   torchvision's Fashion-MNIST files; Debian's dataset-fashion-mnist too.
  folder:PATH     ImageFolder layout (PATH/train and PATH/test, or one folder to split).
  npz:PATH        arrays x_train, y_train, x_test, y_test (and optional class_names).

MNIST-style files are looked for in --data-dir, then the user cache directory, then
(fashion-mnist) /usr/share/datasets/fashion-mnist. When absent they are downloaded through
torchvision, unless DSDNAS_OFFLINE=1.
"""

from __future__ import annotations

import gzip
import os
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from dsdnas.errors import DataError
from dsdnas.nas.splits import stratified_split

MNIST_CLASSES = [str(digit) for digit in range(10)]
FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
_IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
_TORCHVISION = {"mnist": ("MNIST", MNIST_CLASSES), "fashion-mnist": ("FashionMNIST", FASHION_CLASSES)}
_SYSTEM_DIRS = {
    "fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")],
    "mnist": [Path("/usr/share/datasets/mnist")],
}
BUILTIN_DATASETS = ("mnist-sample", "mnist", "fashion-mnist")


@dataclass
class Dataset:
    """Train and test images as uint8 (N, C, H, W) tensors with int64 labels, on the CPU."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    class_names: list[str]

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def offline() -> bool:
    return os.environ.get("DSDNAS_OFFLINE", "") not in ("", "0")


def cache_dir() -> Path:
    """Per-user cache: $DSDNAS_CACHE, else $XDG_CACHE_HOME/dsdnas, else ~/.cache/dsdnas."""
    if os.environ.get("DSDNAS_CACHE"):
        return Path(os.environ["DSDNAS_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dsdnas"


def _as_tensors(name: str, x: np.ndarray, y: np.ndarray, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Images to uint8 (N, C, H, W); accepts (N, H, W), (N, H, W, C) and (N, C, H, W)."""
    if x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4 and x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3):
        x = x.transpose(0, 3, 1, 2)
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise DataError(f"{name}: x_{split} has shape {x.shape}; expected (N, H, W), (N, H, W, C) or (N, C, H, W)")
    if x.dtype != np.uint8:
        if np.issubdtype(x.dtype, np.floating) and x.size and x.min() >= 0.0 and x.max() <= 1.0:
            x = np.round(x * 255.0)
        elif x.size and (x.min() < 0 or x.max() > 255):
            raise DataError(f"{name}: x_{split} values must be uint8 0-255 or floats in [0, 1]")
        x = x.astype(np.uint8)
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
    x_train, y_train = _as_tensors(name, arrays["x_train"], arrays["y_train"], "train")
    x_test, y_test = _as_tensors(name, arrays["x_test"], arrays["y_test"], "test")
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


# MNIST-style IDX files ------------------------------------------------------------
def _idx_dir(folder: Path, torchvision_name: str) -> Path | None:
    """The folder under `folder` holding the four IDX files (plain or .gz), if any."""
    for candidate in (folder, folder / torchvision_name / "raw", folder / torchvision_name):
        if all((candidate / f).exists() or (candidate / f"{f}.gz").exists() for f in _IDX_FILES):
            return candidate
    return None


def _search_dirs(name: str, data_dir: str | None) -> list[Path]:
    dirs = [Path(data_dir)] if data_dir else []
    return dirs + [cache_dir()] + _SYSTEM_DIRS.get(name, [])


def find_idx_files(name: str, data_dir: str | None = None) -> Path | None:
    torchvision_name = _TORCHVISION[name][0]
    for folder in _search_dirs(name, data_dir):
        found = _idx_dir(folder, torchvision_name)
        if found is not None:
            return found
    return None


def _plain_idx_dir(found: Path, torchvision_name: str) -> Path:
    """torchvision reads plain IDX files: unpack .gz ones once into the cache."""
    if all((found / f).exists() for f in _IDX_FILES):
        return found
    target = cache_dir() / torchvision_name / "raw"
    target.mkdir(parents=True, exist_ok=True)
    for file in _IDX_FILES:
        if not (target / file).exists():
            source = found / file if (found / file).exists() else found / f"{file}.gz"
            opener = gzip.open if source.suffix == ".gz" else open
            partial = target / f"{file}.partial"
            with opener(source, "rb") as src, open(partial, "wb") as dst:
                shutil.copyfileobj(src, dst)
            partial.replace(target / file)
    return target


def _download(name: str) -> Path | None:
    import torchvision.datasets as tvd

    torchvision_name = _TORCHVISION[name][0]
    try:
        for train in (True, False):
            getattr(tvd, torchvision_name)(str(cache_dir()), train=train, download=True)
    except Exception:  # noqa: BLE001 - any network or file failure means "not available"
        return None
    return _idx_dir(cache_dir(), torchvision_name)


def _missing_message(name: str, data_dir: str | None) -> str:
    places = ", ".join(str(p) for p in _search_dirs(name, data_dir))
    files = ", ".join(f"{f}[.gz]" for f in _IDX_FILES)
    hint = " or use --dataset mnist-sample (bundled, offline)" if name == "mnist" else ""
    if name == "fashion-mnist":
        hint = " or `apt-get install dataset-fashion-mnist`"
    how = "downloads are off (DSDNAS_OFFLINE=1)" if offline() else "the download failed"
    return f"dataset {name} not found and {how}: put {files} in one of {places}{hint}"


def load_torchvision(name: str, data_dir: str | None = None) -> Dataset:
    from torchvision.datasets.mnist import read_image_file, read_label_file

    torchvision_name, class_names = _TORCHVISION[name]
    found = find_idx_files(name, data_dir)
    if found is None and not offline():
        found = _download(name)
    if found is None:
        raise DataError(_missing_message(name, data_dir))
    plain = _plain_idx_dir(found, torchvision_name)
    return Dataset(
        name,
        read_image_file(str(plain / _IDX_FILES[0]))[:, None].contiguous(),
        read_label_file(str(plain / _IDX_FILES[1])).long(),
        read_image_file(str(plain / _IDX_FILES[2]))[:, None].contiguous(),
        read_label_file(str(plain / _IDX_FILES[3])).long(),
        class_names,
    )


def mnist_available(data_dir: str | None = None) -> bool:
    """True when MNIST is on disk or could be downloaded just now."""
    return find_idx_files("mnist", data_dir) is not None or (not offline() and _download("mnist") is not None)


def load_dataset(
    name: str,
    data_dir: str | None = None,
    image_size: int | None = None,
    color: str = "auto",
    test_fraction: float = 0.2,
    seed: int = 0,
) -> Dataset:
    """Load a dataset by name (see the module docstring) into uint8 CPU tensors."""
    if name == "mnist-sample":
        return load_mnist_sample()
    if name in _TORCHVISION:
        return load_torchvision(name, data_dir)
    if name.startswith("npz:"):
        return load_npz(name[4:])
    if name.startswith("folder:"):
        from dsdnas.nas.folder import load_folder

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
