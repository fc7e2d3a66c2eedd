"""The exact cheapest and dearest candidate of a space, in MACs and in parameters.

A candidate's cost is a sum over its layers, and, once its widths and depths are fixed,
each block's kind and kernel can be chosen independently. So the extremes follow from a
small recursion over the stages: at each stage, every width and block count, with each
block at its cheapest (or dearest) feasible kind and kernel, each kind costed by its
entry in the kinds table (`nas.model.kinds`). No candidate is enumerated,
and the figures are the space's true minimum and maximum, not estimates; tests check them
against brute-force enumeration. Costs count what dsdnas counts: conv and linear
multiply-adds, and weights plus BatchNorm's scale and shift (and the classifier's bias).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from dsdnas.nas.model.arch import conv_output_size
from dsdnas.nas.model.kinds import BLOCK_KINDS, STEM_KIND


@dataclass(frozen=True)
class Bounds:
    min_macs: int
    max_macs: int
    min_params: int
    max_params: int


def _macs_cost(kind: str, c_in: int, c_out: int, *, kernel: int, out_size: int) -> int:
    return BLOCK_KINDS.get(kind).macs(c_in, c_out, kernel, out_size)


def _params_cost(kind: str, c_in: int, c_out: int, *, kernel: int, out_size: int) -> int:
    return BLOCK_KINDS.get(kind).params(c_in, c_out, kernel)


Decisions = tuple[tuple[str, object], ...]  # (parameter name, value) choices that reach an extreme


def _best(space, input_shape: tuple[int, int, int], *, cost, head, pick) -> tuple[int, Decisions]:
    """The lowest (`pick=min`) or highest (`max`) total `cost` over the space, and the choices that reach it."""
    channels, size = input_shape[0], min(input_shape[1:])
    stage_sizes = space.stage_sizes(size)

    def block(prefix: str, c_in: int, c_out: int, *, map_size: int, out_size: int) -> tuple[int, Decisions]:
        options = [
            (
                cost(kind, c_in, c_out, kernel=kernel, out_size=out_size),
                ((f"{prefix}.kind", kind), (f"{prefix}.conv", f"k{kernel}_d{d}")),
            )
            for kind in space.kinds
            for kernel, d in space.conv_choices(map_size)
        ]
        return pick(options, key=lambda option: option[0])

    @functools.cache
    def rest(stage: int, width: int, count: int) -> tuple[int, Decisions]:
        if stage == count:
            return head(width), ()
        in_size, out_size = stage_sizes[stage]
        options = []
        for new in space.widths[stage]:
            after, later = rest(stage + 1, new, count)
            for blocks in space.stage_block_counts(stage, size):
                first = block(f"s{stage}.b0", width, new, map_size=in_size, out_size=out_size)
                inner = [
                    block(f"s{stage}.b{i}", new, new, map_size=out_size, out_size=out_size) for i in range(1, blocks)
                ]
                total = first[0] + sum(b[0] for b in inner) + after
                chosen = ((f"s{stage}.width", new), (f"s{stage}.blocks", blocks), *first[1])
                options.append((total, chosen + tuple(d for b in inner for d in b[1]) + later))
        return pick(options, key=lambda option: option[0])

    options = []
    for count in space.feasible_stage_counts(size):
        for width in space.stem_channels:
            for kernel in space.stem_kernels:
                tail, decisions = rest(0, width, count)
                stem_size = conv_output_size(size, space.stem_stride)
                stem = cost(STEM_KIND, channels, width, kernel=kernel, out_size=stem_size)
                chosen = (("stages", count), ("stem.channels", width), ("stem.kernel", kernel))
                options.append((stem + tail, chosen + decisions))
    return pick(options, key=lambda option: option[0])


def cost_bounds(space, input_shape: tuple[int, int, int], num_classes: int) -> Bounds:
    """The minimum and maximum MACs and params over every candidate `space` produces for this input."""
    macs_head = lambda width: width * num_classes  # noqa: E731 - the classifier's multiply-adds
    params_head = lambda width: width * num_classes + num_classes  # noqa: E731 - its weights and bias
    return Bounds(
        _best(space, input_shape, cost=_macs_cost, head=macs_head, pick=min)[0],
        _best(space, input_shape, cost=_macs_cost, head=macs_head, pick=max)[0],
        _best(space, input_shape, cost=_params_cost, head=params_head, pick=min)[0],
        _best(space, input_shape, cost=_params_cost, head=params_head, pick=max)[0],
    )


def cheapest_decisions(space, input_shape: tuple[int, int, int], num_classes: int) -> dict[str, object]:
    """The choices that give the space's candidate with the fewest MACs."""
    return dict(_best(space, input_shape, cost=_macs_cost, head=lambda width: width * num_classes, pick=min)[1])
