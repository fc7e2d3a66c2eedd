"""The exact cheapest and dearest candidate of a space, in MACs and in parameters.

A candidate's cost is a sum over its layers, and, once its widths and depths are fixed,
each block's kind and kernel can be chosen independently. So the extremes follow from a
small recursion over the stages: at each stage, every width and block count, with each
block at its cheapest (or dearest) feasible kind and kernel, each kind costed by its
entry in the kinds table (`nas.model.kinds`). No candidate is enumerated,
and the figures are the space's true minimum and maximum, not estimates; tests check them
against brute-force enumeration. Costs count what dsdnas counts: conv and linear
multiply-adds, and weights plus BatchNorm's scale and shift (and the linear layers'
biases). The head is chosen last, at each end of the recursion, by its kind's entry in
the head table: its cost depends on the last map's shape and width.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from dsdnas.nas.model.arch import conv_output_size
from dsdnas.nas.model.kinds import BLOCK_KINDS, HEAD_KINDS, STEM_KIND, head_macs, head_params


@dataclass(frozen=True)
class Bounds:
    min_macs: int
    max_macs: int
    min_params: int
    max_params: int


def _macs_cost(kind: str, c_in: int, c_out: int, *, kernel: int, pixels: int) -> int:
    return BLOCK_KINDS.get(kind).macs(c_in, c_out, kernel=kernel, pixels=pixels)


def _params_cost(kind: str, c_in: int, c_out: int, *, kernel: int, pixels: int) -> int:
    return BLOCK_KINDS.get(kind).params(c_in, c_out, kernel=kernel)


Decisions = tuple[tuple[str, object], ...]  # (parameter name, value) choices that reach an extreme


def _head_options(space, channels: int, map_shape: tuple[int, int], *, head_cost, classes: int) -> list:
    """(cost, decisions) of every head the space offers on a last map of `channels` x `map_shape`."""
    options = []
    for kind in space.head_kinds:
        entry = HEAD_KINDS.get(kind)
        for pool in space.head_pools if entry.pooled else (0,):
            features = entry.features(channels, height=map_shape[0], width=map_shape[1], pool=pool)
            pooled = (("head.pool", pool),) if entry.pooled else ()
            for hidden in space.head_hiddens:
                chosen = (("head.kind", kind), *pooled, ("head.hidden", hidden))
                options.append((head_cost(features, hidden=hidden, classes=classes), chosen))
    return options


def _best(space, input_shape: tuple[int, int, int], *, cost, head_cost, classes: int, pick) -> tuple[int, Decisions]:
    """The lowest (`pick=min`) or highest (`max`) total `cost` over the space, and the choices that reach it.

    Maps are followed in height and width apart (a block costs per output pixel); which
    kernels fit follows the smaller side, as sampling does.
    """
    channels, height, width = input_shape
    size = min(height, width)
    stage_sizes = space.stage_sizes(size)
    rows, cols = space.stage_sizes(height), space.stage_sizes(width)

    def block(prefix: str, c_in: int, c_out: int, *, map_size: int, pixels: int) -> tuple[int, Decisions]:
        options = [
            (
                cost(kind, c_in, c_out, kernel=kernel, pixels=pixels),
                ((f"{prefix}.kind", kind), (f"{prefix}.conv", f"k{kernel}_d{d}")),
            )
            for kind in space.kinds
            for kernel, d in space.conv_choices(map_size)
        ]
        return pick(options, key=lambda option: option[0])

    stem_shape = (conv_output_size(height, space.stem_stride), conv_output_size(width, space.stem_stride))

    @functools.cache
    def rest(stage: int, width: int, count: int) -> tuple[int, Decisions]:
        if stage == count:
            last = (rows[count - 1][1], cols[count - 1][1]) if count else stem_shape
            return pick(_head_options(space, width, last, head_cost=head_cost, classes=classes), key=lambda o: o[0])
        in_size, out_size = stage_sizes[stage]
        pixels = rows[stage][1] * cols[stage][1]
        options = []
        for new in space.widths[stage]:
            after, later = rest(stage + 1, new, count)
            for blocks in space.stage_block_counts(stage, size):
                first = block(f"s{stage}.b0", width, new, map_size=in_size, pixels=pixels)
                inner = [block(f"s{stage}.b{i}", new, new, map_size=out_size, pixels=pixels) for i in range(1, blocks)]
                total = first[0] + sum(b[0] for b in inner) + after
                chosen = ((f"s{stage}.width", new), (f"s{stage}.blocks", blocks), *first[1])
                options.append((total, chosen + tuple(d for b in inner for d in b[1]) + later))
        return pick(options, key=lambda option: option[0])

    options = []
    for count in space.feasible_stage_counts(size):
        for stem_width in space.stem_channels:
            for kernel in space.stem_kernels:
                tail, decisions = rest(0, stem_width, count)
                stem = cost(STEM_KIND, channels, stem_width, kernel=kernel, pixels=stem_shape[0] * stem_shape[1])
                chosen = (("stages", count), ("stem.channels", stem_width), ("stem.kernel", kernel))
                options.append((stem + tail, chosen + decisions))
    return pick(options, key=lambda option: option[0])


def cost_bounds(space, input_shape: tuple[int, int, int], num_classes: int) -> Bounds:
    """The minimum and maximum MACs and params over every candidate `space` produces for this input."""
    macs = {"cost": _macs_cost, "head_cost": head_macs, "classes": num_classes}
    params = {"cost": _params_cost, "head_cost": head_params, "classes": num_classes}
    return Bounds(
        _best(space, input_shape, **macs, pick=min)[0],
        _best(space, input_shape, **macs, pick=max)[0],
        _best(space, input_shape, **params, pick=min)[0],
        _best(space, input_shape, **params, pick=max)[0],
    )


def cheapest_decisions(space, input_shape: tuple[int, int, int], num_classes: int) -> dict[str, object]:
    """The choices that give the space's candidate with the fewest MACs."""
    return dict(_best(space, input_shape, cost=_macs_cost, head_cost=head_macs, classes=num_classes, pick=min)[1])
