"""One block in its standard, dilated, separable and dilated-separable forms, costed side by side for
`dsdnas blocks`."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dsdnas.nas.model.arch import effective_kernel
from dsdnas.nas.model.blocks import BLOCK_CLASSES
from dsdnas.nas.model.costs import LATENCY_REPEATS, count_macs, count_params, quiet_latency
from dsdnas.nas.model.kinds import BLOCK_KINDS


@dataclass(frozen=True)
class BlockComparison:
    name: str
    kind: str
    dilation: int
    conv_params: int  # conv weights only (BatchNorm folds into them at inference)
    params: int  # with BatchNorm's scale and shift
    macs: int
    receptive_field: int  # pixels one output sees: d*(k-1)+1
    latency_ms: float  # median at batch 1
    latency_p90_ms: float


def _conv_weights(module: nn.Module) -> int:
    return sum(m.weight.numel() for m in module.modules() if isinstance(m, nn.Conv2d))


def _sees(module: nn.Module) -> int:
    """Pixels one output of the block sees, read off the convs that were timed: d*(k-1)+1 of the widest."""
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    return max(effective_kernel(m.kernel_size[0], m.dilation[0]) for m in convs)


def compare_blocks(
    in_channels: int,
    out_channels: int,
    kernel: int,
    *,
    dilation: int,
    size: int,
    device: torch.device,
    stride: int = 1,
    repeats: int = LATENCY_REPEATS,
) -> list[BlockComparison]:
    """The same block in every kind of the kinds table, each undilated and then dilated by `dilation`."""
    variants = []
    for kind in BLOCK_KINDS:
        variants.append((kind, kind, 1))
        if dilation > 1:
            variants.append((f"{kind} d{dilation}", kind, dilation))
    rows = []
    shape = (in_channels, size, size)
    for name, kind, d in variants:
        torch.manual_seed(0)
        block = BLOCK_CLASSES[kind](in_channels, out_channels, kernel, dilation=d, stride=stride).to(device)
        latency = quiet_latency(block, shape, device, repeats=repeats)
        rows.append(
            BlockComparison(
                name=name,
                kind=kind,
                dilation=d,
                conv_params=_conv_weights(block),
                params=count_params(block),
                macs=count_macs(block, shape).macs,
                receptive_field=_sees(block),
                latency_ms=latency.p50_ms,
                latency_p90_ms=latency.p90_ms,
            )
        )
    return rows
