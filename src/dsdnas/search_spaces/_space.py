"""A search space: a declarative description of the choices, and `sample(trial) -> Arch`.

A space is read from TOML (see the built-ins in `builtin/`):

    name = "dsd-mnist"
    [stem]   channels = [16, 24]; kernel = [3]; stride = 1
    [stages] count = [2, 3]; blocks = [1, 2]
             widths = [[16, 24], [32, 48], [64, 96]]   # output width choices of stage i
             strides = [2, 2, 2]                       # first-block stride of stage i
    [block]  kind, kernel, dilation, residual, activation: lists of choices
    [head]   kind = ["gap", "flatten", "pool"]; pool = [2, 4]; hidden = [0, 32]; dropout = [0.0, 0.1]

`stages.count` may include 0: a network of its stem and head alone. A head's `pool` is
chosen only for the pool kind; its choices do not depend on the map (an adaptive pool to
a grid finer than the map repeats its values), so every trial parameter has one fixed set
of choices.

Every stage has one width, and its first block carries the stage's stride. Map sizes are
fixed by the input size and the stride schedule, so each block position has a fixed set
of feasible (kernel, dilation) pairs: those whose span d*(k-1)+1 fits the map the block
runs on. A candidate with an oversized kernel is never produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from dsdnas.errors import SearchSpaceError
from dsdnas.nas.model.arch import Arch, Block, Head, Stem, conv_output_size, effective_kernel
from dsdnas.nas.model.kinds import HEAD_KINDS
from dsdnas.nas.search.warm_start import Draw
from dsdnas.search_spaces._bounds import Bounds, cheapest_decisions, cost_bounds
from dsdnas.search_spaces._spread import random_draw, spread_over_costs


class _Replay:
    """A trial that answers with given decisions (else the first choice), recording what it was asked."""

    def __init__(self, decisions: dict[str, Any]) -> None:
        self.decisions = decisions
        self.params: dict[str, Any] = {}

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        value = self.decisions.get(name, choices[0])
        self.params[name] = value if value in choices else choices[0]
        return self.params[name]


class TrialLike(Protocol):
    """The part of `optuna.trial.Trial` that sampling needs."""

    def suggest_categorical(self, name: str, choices: Any) -> Any: ...


@dataclass(frozen=True)
class SearchSpace:
    """All the choices of one space; built by `parse_space`, so always valid."""

    name: str
    description: str
    stem_channels: tuple[int, ...]
    stem_kernels: tuple[int, ...]
    stem_stride: int
    stage_counts: tuple[int, ...]
    blocks_per_stage: tuple[int, ...]
    widths: tuple[tuple[int, ...], ...]
    strides: tuple[int, ...]
    kinds: tuple[str, ...]
    kernels: tuple[int, ...]
    dilations: tuple[int, ...]
    residual: tuple[bool, ...]
    activations: tuple[str, ...]
    dropouts: tuple[float, ...]
    head_kinds: tuple[str, ...] = ("gap",)
    head_pools: tuple[int, ...] = (2,)  # grid sides, for the pool kind
    head_hiddens: tuple[int, ...] = (0,)  # hidden-layer widths; 0: none
    source: str = "<built-in>"

    @property
    def head_variants(self) -> int:
        """Distinct heads: each kind (times its grid sides), each hidden width, each dropout."""
        pools = sum(len(self.head_pools) if HEAD_KINDS.get(kind).pooled else 1 for kind in self.head_kinds)
        return pools * len(self.head_hiddens) * len(self.dropouts)

    # Geometry ------------------------------------------------------------------
    def stage_sizes(self, input_size: int) -> list[tuple[int, int]]:
        """(input map size, output map size) of every possible stage."""
        size = conv_output_size(input_size, self.stem_stride)
        sizes = []
        for stride in self.strides:
            out = conv_output_size(size, stride)
            sizes.append((size, out))
            size = out
        return sizes

    def conv_choices(self, map_size: int) -> list[tuple[int, int]]:
        """Feasible (kernel, dilation) pairs on a map of `map_size` pixels."""
        pairs = []
        for kernel in self.kernels:
            for dilation in self.dilations:
                if kernel == 1 and dilation != min(self.dilations):
                    continue  # a 1x1 kernel is the same for any dilation
                if effective_kernel(kernel, dilation) <= map_size:
                    pairs.append((kernel, dilation))
        return pairs

    def stage_block_counts(self, stage: int, input_size: int) -> list[int]:
        """Block counts stage `stage` can have; [] if its first block cannot fit."""
        in_size, out_size = self.stage_sizes(input_size)[stage]
        if not self.conv_choices(in_size):
            return []
        inner_fits = bool(self.conv_choices(out_size))
        return [n for n in self.blocks_per_stage if n == 1 or inner_fits]

    def feasible_stage_counts(self, input_size: int) -> list[int]:
        counts = []
        for count in self.stage_counts:
            if all(self.stage_block_counts(stage, input_size) for stage in range(count)):
                counts.append(count)
        return counts

    def check_feasible(self, input_shape: tuple[int, int, int]) -> None:
        if not self.feasible_stage_counts(min(input_shape[1:])):
            raise SearchSpaceError(
                f"search space {self.name} ({self.source}) admits no feasible candidate for "
                f"{input_shape[1]}x{input_shape[2]} input: some stage's smallest kernel spans more "
                f"than its feature map; use smaller kernels or dilations, or fewer stride-2 stages"
            )

    # Size ----------------------------------------------------------------------
    def _block_variants(self, map_size: int, residual_possible: bool) -> int:
        residual_options = len(set(self.residual)) if residual_possible else 1
        return len(self.kinds) * len(self.activations) * len(self.conv_choices(map_size)) * residual_options

    def size(self, input_shape: tuple[int, int, int] = (1, 28, 28)) -> int:
        """Number of distinct architectures the space can produce for this input.

        Exact when every stage after the first downsamples (stage boundaries are then
        visible in the architecture); an upper bound otherwise, see `size_is_exact`.
        """
        input_size = min(input_shape[1:])
        stage_sizes = self.stage_sizes(input_size)

        def ways(stage: int, previous_width: int, count: int) -> int:
            if stage == count:
                return self.head_variants
            in_size, out_size = stage_sizes[stage]
            stride = self.strides[stage]
            total = 0
            for width in self.widths[stage]:
                first = self._block_variants(in_size, stride == 1 and width == previous_width)
                inner = self._block_variants(out_size, True)
                for blocks in self.stage_block_counts(stage, input_size):
                    total += first * inner ** (blocks - 1) * ways(stage + 1, width, count)
            return total

        total = 0
        for count in self.feasible_stage_counts(input_size):
            for stem_width in self.stem_channels:
                total += len(self.stem_kernels) * ways(0, stem_width, count)
        return total

    def activation_values(self, input_shape: tuple[int, int, int]) -> int:
        """Floats one image's forward pass keeps for backward in the widest, deepest candidate: an upper bound.

        Each conv keeps its output, the BatchNorm output and the activation; a separable
        block has two convs. Memory checks multiply this by the batch and 4 bytes.
        """
        size = conv_output_size(min(input_shape[1:]), self.stem_stride)
        values = 3 * max(self.stem_channels) * size * size
        width = max(self.stem_channels)
        for stage in range(max(self.stage_counts)):
            size = conv_output_size(size, self.strides[stage])
            widest = max(self.widths[stage])
            values += max(self.blocks_per_stage) * 3 * (max(width, widest) + widest) * size * size
            width = widest
        return values

    def cost_bounds(self, input_shape: tuple[int, int, int] = (1, 28, 28), num_classes: int = 10) -> Bounds:
        """The exact minimum and maximum MACs and params of the space's candidates for this input."""
        return cost_bounds(self, input_shape, num_classes)

    def cheapest_params(self, input_shape: tuple[int, int, int], num_classes: int) -> dict[str, Any]:
        """The trial parameters that sample the space's cheapest candidate (fewest MACs): what a new study tries
        first, so that its front reaches the cheap end however the sampler explores."""
        decisions = cheapest_decisions(self, input_shape, num_classes)
        replay = _Replay(decisions)
        self.sample(replay, input_shape, num_classes)
        return replay.params

    def first_params(
        self, input_shape: tuple[int, int, int], num_classes: int, *, spread: int = 0, seed: int = 0
    ) -> list[dict[str, Any]]:
        """What a new study tries first: the cheapest candidate, then `spread` candidates at log-spaced
        costs up to the dearest (see `_spread`)."""
        return spread_over_costs(self, input_shape, num_classes, count=spread, seed=seed)

    def random_draw(self, input_shape: tuple[int, int, int], num_classes: int) -> Draw:
        """A function drawing one random candidate from a stream: (its Arch, its parameters); see `_spread`."""
        return random_draw(self, input_shape, num_classes)

    @property
    def size_is_exact(self) -> bool:
        return all(stride == 2 for stride in self.strides[1:])

    # Sampling ------------------------------------------------------------------
    def sample(self, trial: TrialLike, input_shape: tuple[int, int, int], num_classes: int) -> Arch:
        """Draw one architecture through `trial`'s suggest_* calls."""
        input_size = min(input_shape[1:])
        stage_sizes = self.stage_sizes(input_size)

        def choose(name: str, choices: list | tuple) -> Any:
            # A one-value choice is no decision: keep it out of the study's parameters.
            return choices[0] if len(choices) == 1 else trial.suggest_categorical(name, list(choices))

        stem = Stem(
            channels=choose("stem.channels", self.stem_channels),
            kernel=choose("stem.kernel", self.stem_kernels),
            stride=self.stem_stride,
        )
        blocks: list[Block] = []
        width_in = stem.channels
        for stage in range(choose("stages", self.feasible_stage_counts(input_size))):
            width = choose(f"s{stage}.width", self.widths[stage])
            count = choose(f"s{stage}.blocks", self.stage_block_counts(stage, input_size))
            for index in range(count):
                prefix = f"s{stage}.b{index}"
                stride = self.strides[stage] if index == 0 else 1
                map_size = stage_sizes[stage][0] if index == 0 else stage_sizes[stage][1]
                pairs = [f"k{k}_d{d}" for k, d in self.conv_choices(map_size)]
                kernel, dilation = (int(v[1:]) for v in choose(f"{prefix}.conv", pairs).split("_"))
                residual_possible = stride == 1 and width == width_in
                residual = choose(f"{prefix}.residual", sorted(set(self.residual))) if residual_possible else False
                blocks.append(
                    Block(
                        kind=choose(f"{prefix}.kind", self.kinds),
                        kernel=kernel,
                        dilation=dilation,
                        channels=width,
                        stride=stride,
                        residual=bool(residual),
                        activation=choose(f"{prefix}.activation", self.activations),
                    )
                )
                width_in = width
        kind = choose("head.kind", self.head_kinds)
        head = Head(
            kind=kind,
            pool=choose("head.pool", self.head_pools) if HEAD_KINDS.get(kind).pooled else 0,
            hidden=choose("head.hidden", self.head_hiddens),
            dropout=choose("head.dropout", self.dropouts),
        )
        return Arch(tuple(input_shape), num_classes, stem, tuple(blocks), head)

    def describe(self) -> dict[str, Any]:
        """The choices as plain data, for `dsdnas spaces` and reports."""
        return {
            "stem.channels": list(self.stem_channels),
            "stem.kernel": list(self.stem_kernels),
            "stem.stride": self.stem_stride,
            "stages": list(self.stage_counts),
            "blocks per stage": list(self.blocks_per_stage),
            "widths": [list(w) for w in self.widths],
            "strides": list(self.strides),
            "kind": list(self.kinds),
            "kernel": list(self.kernels),
            "dilation": list(self.dilations),
            "residual": list(self.residual),
            "activation": list(self.activations),
            "dropout": list(self.dropouts),
            # Only a space with more than the default head names its head choices, so the settings
            # of studies made before head kinds stay equal and those studies continue.
            **(
                {}
                if self.head_kinds == ("gap",) and self.head_hiddens == (0,)
                else {
                    "head kind": list(self.head_kinds),
                    "head pool": list(self.head_pools),
                    "head hidden": list(self.head_hiddens),
                }
            ),
        }
