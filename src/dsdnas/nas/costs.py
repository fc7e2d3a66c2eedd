"""Cost reports built from the profiler's measurements.

`profile_arch` gives everything `dsdnas profile` prints for one architecture.
`compare_blocks` measures standard, dilated, separable and dilated-separable versions
of one block side by side, for `dsdnas blocks`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from dsdnas.nas.arch import Arch, effective_kernel
from dsdnas.nas.blocks import BLOCK_CLASSES
from dsdnas.nas.builder import build_model
from dsdnas.nas.profile import count_macs, count_params, measure_latency


def profile_arch(arch: Arch, device: torch.device, batch_size: int = 64, repeats: int = 30) -> dict[str, Any]:
    """MACs, params, receptive field, and latency at batch 1 and at `batch_size`."""
    model = build_model(arch).to(device)
    macs = count_macs(model, arch.input_shape)
    single = measure_latency(model, arch.input_shape, 1, repeats=repeats, device=device)
    batched = measure_latency(model, arch.input_shape, batch_size, repeats=repeats, device=device)
    return {
        "notation": arch.notation,
        "arch_hash": arch.hash,
        "input_shape": list(arch.input_shape),
        "macs": macs.macs,
        "params": count_params(model),
        "receptive_field": arch.receptive_field(),
        "layers": [
            {"name": s.name, "in_size": list(s.in_size), "out_shape": list(s.out_shape)} for s in arch.layer_shapes()
        ],
        "latency_batch1": single.to_dict(),
        "latency_batch": batched.to_dict(),
        "images_per_s": batch_size / (batched.p50_ms / 1000.0),
        "unsupported_ops": macs.unsupported_ops,
    }


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


def compare_blocks(
    in_channels: int,
    out_channels: int,
    kernel: int,
    dilation: int,
    size: int,
    device: torch.device,
    stride: int = 1,
    repeats: int = 30,
) -> list[BlockComparison]:
    """The same block as standard, dilated, separable and dilated separable."""
    variants = [("standard", "standard", 1), ("separable", "separable", 1)]
    if dilation > 1:
        variants.insert(1, (f"standard d{dilation}", "standard", dilation))
        variants.append((f"separable d{dilation}", "separable", dilation))
    rows = []
    shape = (in_channels, size, size)
    for name, kind, d in variants:
        torch.manual_seed(0)
        block = BLOCK_CLASSES[kind](in_channels, out_channels, kernel, dilation=d, stride=stride).to(device)
        latency = measure_latency(block, shape, 1, repeats=repeats, device=device)
        rows.append(
            BlockComparison(
                name=name,
                kind=kind,
                dilation=d,
                conv_params=_conv_weights(block),
                params=count_params(block),
                macs=count_macs(block, shape).macs,
                receptive_field=effective_kernel(kernel, d),
                latency_ms=latency.p50_ms,
                latency_p90_ms=latency.p90_ms,
            )
        )
    return rows
