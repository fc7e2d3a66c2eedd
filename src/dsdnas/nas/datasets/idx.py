"""MNIST and Fashion-MNIST from torchvision's IDX files (plain or .gz).

The files are looked for in --data-dir, then the user cache directory, then (for
fashion-mnist) Debian's /usr/share/datasets/fashion-mnist. When absent they are
downloaded through torchvision, unless DSDNAS_OFFLINE=1. Gzipped files are unpacked
once into the cache, because torchvision reads plain ones.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

from dsdnas.errors import DataError
from dsdnas.nas.datasets.base import Dataset, offline
from dsdnas.nas.files import atomic_write, cache_dir

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
TORCHVISION_NAMES = {"mnist": ("MNIST", MNIST_CLASSES), "fashion-mnist": ("FashionMNIST", FASHION_CLASSES)}
_SYSTEM_DIRS = {
    "fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")],
    "mnist": [Path("/usr/share/datasets/mnist")],
}


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
    torchvision_name = TORCHVISION_NAMES[name][0]
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

            def unpack(partial: Path, source: Path = source, opener=opener) -> None:
                with opener(source, "rb") as src, open(partial, "wb") as dst:
                    shutil.copyfileobj(src, dst)

            atomic_write(target / file, unpack)
    return target


def _download(name: str) -> Path | None:
    import torchvision.datasets as tvd

    torchvision_name = TORCHVISION_NAMES[name][0]
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

    torchvision_name, class_names = TORCHVISION_NAMES[name]
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
