"""A dataset in memory: train and test images as uint8 tensors, with class names.

Also whether dsdnas may download datasets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


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
