"""Data resident on the training device, and the on-device batch transforms.

Images stay uint8 on the device (a quarter of float32's memory); each batch is indexed
straight from those tensors, converted to float and normalized there with the mean and
std of the training split. No DataLoader, no per-sample Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from dsdnas.errors import DataError
from dsdnas.nas.datasets.base import Dataset
from dsdnas.nas.datasets.splits import stratified_split


class Normalizer:
    """uint8 images to the normalized float32 a model trains on: (x / 255 - mean) / std.

    The one normalization of dsdnas: training, evaluation and export checks all use it.
    """

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...], device: torch.device | str = "cpu") -> None:
        shape = (1, len(mean), 1, 1)
        std_tensor = torch.tensor(std, device=device).view(shape)
        # x_uint8 * scale + shift == (x / 255 - mean) / std, in one fused op.
        self.scale = (1.0 / (255.0 * std_tensor)).float()
        self.shift = (-torch.tensor(mean, device=device).view(shape) / std_tensor).float()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.addcmul(self.shift, x.float(), self.scale)


@dataclass
class DeviceSplit:
    x: torch.Tensor  # uint8 (N, C, H, W) on the device
    y: torch.Tensor  # int64 (N,) on the device

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class DeviceData:
    """Train (and validation or test) splits on one device, with normalization constants."""

    train: DeviceSplit
    val: DeviceSplit | None
    mean: tuple[float, ...]  # per channel, of pixel/255 over the training split
    std: tuple[float, ...]
    num_classes: int

    def __post_init__(self) -> None:
        self._normalizer = Normalizer(self.mean, self.std, self.train.x.device)

    @property
    def device(self) -> torch.device:
        return self.train.x.device

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.train.x.shape[1:])

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 images on the device to normalized float32."""
        return self._normalizer(x)


def channel_stats(x: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and (sample) std of uint8 images scaled to [0, 1].

    Integer sums are exact, so the result does not depend on the thread count or the
    machine: a study stores these numbers and its workers must compute the same ones.
    """
    pixels = x.transpose(0, 1).reshape(x.shape[1], -1).long()
    count = pixels.shape[1]
    sums, squares = pixels.sum(dim=1).tolist(), (pixels * pixels).sum(dim=1).tolist()
    means, stds = [], []
    for total, square in zip(sums, squares, strict=True):
        variance = (square * count - total * total) / (count * max(count - 1, 1)) / 255.0**2
        means.append(total / count / 255.0)
        stds.append(max(math.sqrt(variance), 1e-3))  # a constant channel must not divide by zero
    return tuple(means), tuple(stds)


def to_device(
    dataset: Dataset,
    device: torch.device,
    *,
    val_fraction: float = 0.1,
    seed: int = 0,
    use_test: bool = False,
) -> DeviceData:
    """Move a dataset to `device` once.

    By default the second split is validation, carved stratified from train; the test
    split stays on the host. With `use_test`, all of train is trained on and the second
    split is the test split (final evaluation only).
    """
    if use_test:
        train_x, train_y = dataset.x_train, dataset.y_train
        other = (dataset.x_test, dataset.y_test)
    elif val_fraction > 0:
        if not 0 < val_fraction < 1:
            raise DataError(f"--val-fraction {val_fraction} must be in (0, 1)")
        keep, val = stratified_split(dataset.y_train, val_fraction, seed)
        train_x, train_y = dataset.x_train[keep], dataset.y_train[keep]
        other = (dataset.x_train[val], dataset.y_train[val])
    else:
        train_x, train_y, other = dataset.x_train, dataset.y_train, None
    mean, std = channel_stats(train_x)
    val_split = DeviceSplit(other[0].to(device), other[1].to(device)) if other is not None else None
    return DeviceData(DeviceSplit(train_x.to(device), train_y.to(device)), val_split, mean, std, dataset.num_classes)


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by up to `max_shift` px in x and y, zero-filled, on the device."""
    n, _, height, width = x.shape
    shifts = torch.randint(0, 2 * max_shift + 1, (2, n), generator=generator).to(x.device)
    padded = torch.nn.functional.pad(x, (max_shift,) * 4)
    rows = (torch.arange(height, device=x.device)[None] + shifts[0][:, None])[:, None, :, None]
    cols = (torch.arange(width, device=x.device)[None] + shifts[1][:, None])[:, None, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    channel = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[batch, channel, rows, cols]
