"""The conv blocks a candidate is made of, as `nn.Module` classes, one per entry of `kinds.BLOCK_KINDS`.

`standard`: a k x k conv with dilation d, BatchNorm, activation.
`separable`: a depthwise k x k conv with dilation d (groups = C_in), BatchNorm and
activation, then a pointwise 1x1 conv, BatchNorm and activation. With d > 1 this is the
depthwise-separable dilated conv that dsdnas is named for.

Every conv is padded by d*(k-1)/2 so that stride 1 keeps the spatial size. Convs carry
no bias because BatchNorm follows them. Every block class takes (in_channels,
out_channels, kernel) and the keywords dilation, stride, residual and activation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import torch
from torch import nn

from dsdnas.nas.model.arch import ACTIVATIONS
from dsdnas.nas.model.kinds import BLOCK_KINDS

ACTIVATION_CLASSES: dict[str, type[nn.Module]] = {name: getattr(nn, cls) for name, cls in ACTIVATIONS.items()}


def same_padding(kernel: int, dilation: int) -> int:
    """Padding that keeps the size at stride 1: d*(k-1)/2 (k is odd)."""
    return dilation * (kernel - 1) // 2


class ConvBNAct(nn.Sequential):
    """Conv2d (no bias), BatchNorm2d, activation."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int,
        *,
        stride: int = 1,
        dilation: int = 1,
        groups: int = 1,
        activation: str = "relu",
    ) -> None:
        super().__init__(
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel,
                stride=stride,
                padding=same_padding(kernel, dilation),
                dilation=dilation,
                groups=groups,
                bias=False,
            ),
            nn.BatchNorm2d(out_channels),
            ACTIVATION_CLASSES[activation](),
        )


class StandardBlock(nn.Module):
    """k x k conv with dilation, BatchNorm, activation; optional residual add."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int,
        *,
        dilation: int = 1,
        stride: int = 1,
        residual: bool = False,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.conv = ConvBNAct(
            in_channels, out_channels, kernel, stride=stride, dilation=dilation, activation=activation
        )
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return out + x if self.residual else out


class SeparableBlock(nn.Module):
    """Depthwise k x k conv with dilation, then pointwise 1x1; optional residual add."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int,
        *,
        dilation: int = 1,
        stride: int = 1,
        residual: bool = False,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.depthwise = ConvBNAct(
            in_channels,
            in_channels,
            kernel,
            stride=stride,
            dilation=dilation,
            groups=in_channels,
            activation=activation,
        )
        self.pointwise = ConvBNAct(in_channels, out_channels, 1, activation=activation)
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.pointwise(self.depthwise(x))
        return out + x if self.residual else out


def block_class(kind: str) -> type[nn.Module]:
    """The class of block kind `kind`: the one its entry in the kinds table names."""
    return globals()[BLOCK_KINDS.get(kind).module]


class _ClassesByKind(Mapping[str, type[nn.Module]]):
    """Kind name -> class, read from the kinds table at each lookup, so it never holds a stale copy."""

    def __getitem__(self, kind: str) -> type[nn.Module]:
        if kind not in BLOCK_KINDS:
            raise KeyError(kind)  # a Mapping's `in` and `get` expect KeyError
        return block_class(kind)

    def __iter__(self) -> Iterator[str]:
        return iter(BLOCK_KINDS)

    def __len__(self) -> int:
        return len(BLOCK_KINDS)


BLOCK_CLASSES: Mapping[str, type[nn.Module]] = _ClassesByKind()
