"""Every distinct layer a space's candidates can contain, for one input shape: what a latency table times.

A space has few distinct layers though it has many candidates (dsd-mnist: about 2,000
layers against some 10^13 candidates), because a layer depends only on its position's
choices and on the width of what feeds it. The walk follows `SearchSpace.sample`: each
stage's first block runs on the stage's input map with its stride, the others on its
output map; a block is fed by the stem's widths or the previous stage's; a head reads the
last stage's widths at its map size, or the stem's when a network has no stage.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from itertools import product

from dsdnas.nas.model.arch import Arch, Block, Head, Stem, conv_output_size
from dsdnas.nas.model.kinds import HEAD_KINDS
from dsdnas.nas.model.layers import Layer, block_layer, head_layer, stem_layer
from dsdnas.search_spaces._space import SearchSpace
from dsdnas.search_spaces._spread import random_draw


def _heads(space: SearchSpace) -> list[Head]:
    heads = []
    for kind in space.head_kinds:
        pools = space.head_pools if HEAD_KINDS.get(kind).pooled else (0,)
        heads += [Head(kind=kind, pool=pool, hidden=hidden) for pool, hidden in product(pools, space.head_hiddens)]
    return heads


def _stage_blocks(
    space: SearchSpace, stage: int, input_shape: tuple[int, int, int], *, widths_in: tuple[int, ...]
) -> list[Layer]:
    """The layers of stage `stage`: its first block fed by `widths_in`, its inner blocks by its own width."""
    (in_size, out_size), stride = space.stage_sizes(min(input_shape[1:]))[stage], space.strides[stage]
    (in_map, out_map) = _maps(space, input_shape)[stage]
    counts = space.stage_block_counts(stage, min(input_shape[1:]))
    positions = [(in_size, in_map, stride, True)] + ([(out_size, out_map, 1, False)] if max(counts) > 1 else [])
    layers = []
    for size, (height, width), block_stride, first in positions:
        for channels in space.widths[stage]:
            for channels_in in widths_in if first else (channels,):
                residuals = sorted(set(space.residual)) if block_stride == 1 and channels == channels_in else [False]
                choices = product(space.conv_choices(size), residuals, space.kinds, space.activations)
                for (kernel, dilation), residual, kind, activation in choices:
                    block = Block(kind, kernel, dilation, channels, block_stride, bool(residual), activation)
                    layers.append(block_layer(block, (channels_in, height, width)))
    return layers


def _maps(space: SearchSpace, input_shape: tuple[int, int, int]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """((H, W) in, (H, W) out) of every stage; feasibility follows the smaller side, keys both."""
    heights, widths = space.stage_sizes(input_shape[1]), space.stage_sizes(input_shape[2])
    return [((h_in, w_in), (h_out, w_out)) for (h_in, h_out), (w_in, w_out) in zip(heights, widths, strict=True)]


def space_layers(space: SearchSpace, input_shape: tuple[int, int, int], num_classes: int) -> dict[str, Layer]:
    """key -> layer, for every layer a candidate of `space` can contain on `input_shape` input."""
    stems = [
        Stem(channels, kernel, space.stem_stride) for channels in space.stem_channels for kernel in space.stem_kernels
    ]
    layers = [stem_layer(stem, input_shape) for stem in stems]
    stem_map = tuple(conv_output_size(side, space.stem_stride) for side in input_shape[1:])
    counts = space.feasible_stage_counts(min(input_shape[1:]))
    widths_in = tuple(space.stem_channels)
    ends = {(channels, stem_map) for channels in widths_in} if 0 in counts else set()  # what a head may read
    for stage in range(max(counts)):
        layers += _stage_blocks(space, stage, input_shape, widths_in=widths_in)
        widths_in = tuple(space.widths[stage])
        if stage + 1 in counts:
            ends |= {(channels, _maps(space, input_shape)[stage][1]) for channels in widths_in}
    for head, (channels, (height, width)) in product(_heads(space), sorted(ends)):
        layers.append(head_layer(head, (channels, height, width), num_classes))
    return {layer.key: layer for layer in layers}


def sample_archs(
    space: SearchSpace,
    input_shape: tuple[int, int, int],
    num_classes: int,
    *,
    count: int,
    seed: int,
    keep: Callable[[Arch], bool] = lambda arch: True,
) -> list[Arch]:
    """`count` distinct candidates that `keep` accepts, drawn uniformly at random, choice by choice, from a
    seeded stream: one it refuses (a runtime cannot run it) is replaced by the next draw."""
    rng, draw, archs = random.Random(seed), random_draw(space, input_shape, num_classes), {}
    for _ in range(20 * count):  # a small space runs out of new candidates
        if len(archs) == count:
            break
        arch, _ = draw(rng)
        if keep(arch):
            archs.setdefault(arch.hash, arch)
    return list(archs.values())
