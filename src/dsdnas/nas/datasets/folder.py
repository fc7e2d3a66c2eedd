"""Read an ImageFolder-layout directory into uint8 tensors, once.

PATH/train/<class>/* and PATH/test/<class>/* when both exist; otherwise PATH/<class>/*,
with a stratified, seeded test split carved off. Discovery uses torchvision's ImageFolder;
images are decoded with Pillow, converted to grayscale or RGB, and resized.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from dsdnas.errors import DataError
from dsdnas.nas.datasets.base import Dataset
from dsdnas.nas.datasets.splits import stratified_split
from dsdnas.nas.hardware import require_memory


def _headers(samples: list[tuple[str, int]]) -> list[tuple[str, tuple[int, int]]]:
    """(mode, size) of every image, read from its header alone: nothing is decoded yet."""
    from PIL import Image

    headers = []
    for path, _ in samples:
        try:
            with Image.open(path) as image:
                headers.append((image.mode, image.size))
        except OSError as error:
            raise DataError(f"cannot read image {path}: {error}") from None
    return headers


def _read_images(root: Path, image_size: int | None, color: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from PIL import Image
    from torchvision.datasets import ImageFolder

    try:
        folder = ImageFolder(str(root))
    except (FileNotFoundError, RuntimeError) as error:
        raise DataError(f"folder:{root}: not an ImageFolder layout (one sub-folder per class): {error}") from None
    headers = _headers(folder.samples)
    if color == "auto":
        color = "gray" if all(mode in ("1", "L", "I", "I;16", "F") for mode, _ in headers) else "rgb"
    if image_size is None:
        sizes = {size for _, size in headers}
        if len(sizes) > 1:
            raise DataError(f"folder:{root}: images have {len(sizes)} different sizes; pass --image-size N")
    width, height = (image_size, image_size) if image_size is not None else headers[0][1]
    channels = 1 if color == "gray" else 3
    shape = (len(headers), channels, height, width)
    require_memory(
        int(np.prod(shape)),
        torch.device("cpu"),
        what=f"folder:{root} as {len(headers):,} images of {channels}x{height}x{width}",
        hint="pass a smaller --image-size",
    )
    images = np.empty(shape, dtype=np.uint8)
    for index, (path, _) in enumerate(folder.samples):
        try:
            with Image.open(path) as image:
                image = image.convert("L" if color == "gray" else "RGB")
                if image.size != (width, height):
                    image = image.resize((width, height), Image.BILINEAR)
                array = np.asarray(image, dtype=np.uint8)
        except OSError as error:
            raise DataError(f"cannot decode image {path}: {error}") from None
        images[index] = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    return images, np.asarray(folder.targets, dtype=np.int64), list(folder.classes)


def load_folder(
    path: str, *, image_size: int | None = None, color: str = "auto", test_fraction: float = 0.2, seed: int = 0
) -> Dataset:
    """Load folder:PATH; `color` is gray, rgb or auto (rgb when any image has colour)."""
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"folder:{path}: no such directory")
    if color not in ("auto", "gray", "rgb"):
        raise DataError(f"--color {color!r} must be auto, gray or rgb")
    name = f"folder:{path}"
    if (root / "train").is_dir() and (root / "test").is_dir():
        x_train, y_train, classes = _read_images(root / "train", image_size, color)
        x_test, y_test, test_classes = _read_images(root / "test", image_size, color)
        if test_classes != classes:
            raise DataError(f"{name}: train classes {classes} differ from test classes {test_classes}")
        if x_train.shape[1:] != x_test.shape[1:]:
            raise DataError(f"{name}: train and test images differ in size or colour; pass --image-size/--color")
        return Dataset(
            name,
            torch.from_numpy(x_train),
            torch.from_numpy(y_train),
            torch.from_numpy(x_test),
            torch.from_numpy(y_test),
            classes,
        )
    x, y, classes = _read_images(root, image_size, color)
    if len(classes) < 2:
        raise DataError(f"{name}: found {len(classes)} class folder(s); need at least 2")
    x_all, y_all = torch.from_numpy(x), torch.from_numpy(y)
    train_idx, test_idx = stratified_split(y_all, test_fraction, seed)
    return Dataset(name, x_all[train_idx], y_all[train_idx], x_all[test_idx], y_all[test_idx], classes)
