"""Turn an `Arch` into an `nn.Module`: one pure function over the kinds table (`kinds.BLOCK_KINDS`)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from dsdnas.nas.model.arch import Arch, Block, Head, Stem, as_arch
from dsdnas.nas.model.blocks import ConvBNAct, block_class
from dsdnas.nas.model.heads import head_pool


class HeadParts(nn.Module):
    """The head's parts as attributes of the module itself (`pool`, `hidden`, `dropout`, `classifier`), and
    how they run: pooling of its kind, flatten, [hidden layer, ReLU], dropout, classifier."""

    def add_head(self, head: Head, features: int, num_classes: int) -> None:
        self.pool = head_pool(head.kind, head.pool)
        # Without a hidden layer it is an identity with no parameters: the state dict stays as before.
        self.hidden = nn.Sequential(nn.Linear(features, head.hidden), nn.ReLU()) if head.hidden else nn.Identity()
        self.dropout = nn.Dropout(head.dropout)
        self.classifier = nn.Linear(head.hidden or features, num_classes)

    def run_head(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(self.hidden(self.pool(x).flatten(1))))


def stem_module(stem: Stem, in_channels: int) -> nn.Module:
    return ConvBNAct(in_channels, stem.channels, stem.kernel, stride=stem.stride, activation=stem.activation)


def block_module(block: Block, in_channels: int) -> nn.Module:
    """The block's class from the kinds table, fed `in_channels`."""
    return block_class(block.kind)(
        in_channels,
        block.channels,
        block.kernel,
        dilation=block.dilation,
        stride=block.stride,
        residual=block.residual,
        activation=block.activation,
    )


class Net(HeadParts):
    """Stem, blocks, then the head: pooling of its kind, flatten, [hidden layer, ReLU], dropout, classifier.

    The head's parts are attributes of the network itself (`HeadParts`), so a global-pooling
    network has the state-dict keys it always had.
    """

    def __init__(self, arch: Arch) -> None:
        super().__init__()
        self.stem = stem_module(arch.stem, arch.input_shape[0])
        widths_in = [arch.stem.channels, *(block.channels for block in arch.blocks)]
        self.blocks = nn.Sequential(*map(block_module, arch.blocks, widths_in))
        self.add_head(arch.head, arch.head_features(), arch.num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.stem(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run_head(self.forward_features(x))


def build_model(arch: Arch | dict[str, Any], seed: int = 0) -> Net:
    """Build the network for `arch` (an Arch or its JSON dict), initialized from `seed`.

    The same arch and seed always give the same weights, and the global RNG is left as
    it was.
    """
    arch = as_arch(arch)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Net(arch)  # PyTorch's default init, drawn from the seeded RNG
    return model
