"""A candidate as the layers a latency table times one by one: its stem, each block, its head.

Each layer has a key that says everything its latency depends on, its input shape
included, and nothing else (a head's dropout is an identity at inference, so it is left
out):

    stem_k3_c16_s1_relu@1x28x28             the stem: kernel, output width, stride, activation
    sep_k5_d2_c32_s2_res_hardswish@16x28x28  a block: its notation, on its input C x H x W
    head_gap_n10@64x4x4                     the head: its kind (and grid, hidden width), classes

`arch_layers(arch)` lists a candidate's layers in order; `stem_layer`, `block_layer` and
`head_layer` make one from its parts, which is how a space lists every layer it can
contain (`search_spaces._layers`). A layer builds its own module (`Layer.build`), the
class the network itself is built from, so the two are timed alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
from torch import nn

from dsdnas.nas.model.arch import Arch, Block, Head, Stem, conv_output_size
from dsdnas.nas.model.builder import HeadParts, block_module, stem_module


@dataclass(frozen=True)
class Layer:
    """One layer of a candidate: its key, the shape of one input sample, and how to build it."""

    key: str
    input_shape: tuple[int, int, int]
    build: Callable[[], nn.Module]


class HeadLayer(HeadParts):
    """A head alone, as `builder.Net` runs it."""

    def __init__(self, head: Head, in_shape: tuple[int, int, int], num_classes: int) -> None:
        super().__init__()
        self.add_head(head, head.features(*in_shape), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run_head(x)


def _shape(channels: int, height: int, width: int) -> str:
    return f"{channels}x{height}x{width}"


def stem_layer(stem: Stem, input_shape: tuple[int, int, int]) -> Layer:
    channels = input_shape[0]
    key = f"stem_k{stem.kernel}_c{stem.channels}_s{stem.stride}_{stem.activation}@{_shape(*input_shape)}"

    return Layer(key, input_shape, lambda: stem_module(stem, channels))


def block_layer(block: Block, in_shape: tuple[int, int, int]) -> Layer:
    # The notation leaves out relu, the default; a key names every activation.
    notation = block.notation if block.activation != "relu" else f"{block.notation}_relu"
    in_channels = in_shape[0]

    return Layer(f"{notation}@{_shape(*in_shape)}", in_shape, lambda: block_module(block, in_channels))


def head_layer(head: Head, in_shape: tuple[int, int, int], num_classes: int) -> Layer:
    timed = replace(head, dropout=0.0)  # dropout costs nothing at inference
    key = f"head_{timed.notation}_n{num_classes}@{_shape(*in_shape)}"
    return Layer(key, in_shape, lambda: HeadLayer(timed, in_shape, num_classes))


def arch_layers(arch: Arch) -> list[Layer]:
    """The candidate's stem, blocks and head, in the order its forward pass runs them."""
    _, height, width = arch.input_shape
    layers = [stem_layer(arch.stem, arch.input_shape)]
    height, width = conv_output_size(height, arch.stem.stride), conv_output_size(width, arch.stem.stride)
    channels = arch.stem.channels
    for block in arch.blocks:
        layers.append(block_layer(block, (channels, height, width)))
        height, width = conv_output_size(height, block.stride), conv_output_size(width, block.stride)
        channels = block.channels
    layers.append(head_layer(arch.head, (channels, height, width), arch.num_classes))
    return layers


def handoff_elements(arch: Arch) -> int:
    """How many activation elements the candidate's convolutional layers hand one to the next: the input of
    each block (the stem's input and the head's are left out).

    A layer timed alone converts what it takes and what it gives between the runtime's layouts, where a
    whole model converts once: ONNX Runtime computes convolutions in a blocked layout (NCHWc) and adds a
    reorder at each end of a graph. That copy grows with the activation, so a latency table's fit counts it
    per element (`lut._table.corrected_ms`).
    """
    return sum(math.prod(layer.input_shape) for layer in arch_layers(arch)[1:-1])
