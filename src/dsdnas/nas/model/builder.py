"""Turn an `Arch` into an `nn.Module`: one pure function over the kinds table (`kinds.BLOCK_KINDS`)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from dsdnas.nas.model.arch import Arch, as_arch
from dsdnas.nas.model.blocks import ConvBNAct, block_class
from dsdnas.nas.model.heads import head_pool


class Net(nn.Module):
    """Stem, blocks, then the head: pooling of its kind, flatten, [hidden layer, ReLU], dropout, classifier.

    The head's parts are attributes of the network itself (`pool`, `hidden`, `dropout`,
    `classifier`), so a global-pooling network has the state-dict keys it always had.
    """

    def __init__(self, arch: Arch) -> None:
        super().__init__()
        in_channels = arch.input_shape[0]
        stem = arch.stem
        self.stem = ConvBNAct(in_channels, stem.channels, stem.kernel, stride=stem.stride, activation=stem.activation)
        layers = []
        in_channels = stem.channels
        for block in arch.blocks:
            layers.append(
                block_class(block.kind)(
                    in_channels,
                    block.channels,
                    block.kernel,
                    dilation=block.dilation,
                    stride=block.stride,
                    residual=block.residual,
                    activation=block.activation,
                )
            )
            in_channels = block.channels
        self.blocks = nn.Sequential(*layers)
        head = arch.head
        self.pool = head_pool(head.kind, head.pool)
        features = arch.head_features()
        # Without a hidden layer it is an identity with no parameters: the state dict stays as before.
        self.hidden = nn.Sequential(nn.Linear(features, head.hidden), nn.ReLU()) if head.hidden else nn.Identity()
        self.dropout = nn.Dropout(head.dropout)
        self.classifier = nn.Linear(head.hidden or features, arch.num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.stem(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.pool(self.forward_features(x)).flatten(1)
        return self.classifier(self.dropout(self.hidden(features)))


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
