"""The kinds of block and of head a candidate is made of: one table entry each.

A block entry says everything dsdnas needs of a kind: its name (in arch.json and a
space's TOML), its code in the one-line notation, the `nn.Module` class that builds it
(defined in `blocks.py` under the entry's `module` name), its exact multiply-add and
parameter counts (which give every space's exact cost bounds), and the source of the
class an exported model.py holds. So a new kind of block is one entry here plus its
class: notation, JSON, builder, costs, bounds, `dsdnas spaces` and export all read it.

A head entry does the same for what turns the last feature map into the classifier's
inputs (global pooling, the whole map flattened, or a pooled grid flattened): its name,
code, the pooling class in `heads.py`, how many features it hands on, the line model.py
writes for it, and whether it depends on the input size. The optional hidden layer, the
dropout and the classifier are the same for every head kind, so their costs are written
once (`head_macs`, `head_params`).

A name that is not in a table is an error naming the known ones, everywhere: a `Registry`
has no default entry, and refuses a second entry with a name or code it already holds.

This module imports no torch: the notation and the search spaces read it at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from dsdnas.errors import SpecError


class _Entry(Protocol):
    name: str
    code: str


Entry = TypeVar("Entry", bound=_Entry)


class Registry(Generic[Entry]):
    """Entries by name and by notation code, in the order they were added."""

    def __init__(self, what: str, entries: tuple[Entry, ...] = ()) -> None:
        self.what = what  # "block kind": how errors name an entry
        self._by_name: dict[str, Entry] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: Entry) -> Entry:
        for taken in self._by_name.values():
            if entry.name == taken.name or entry.code == taken.code:
                raise SpecError(f"a {self.what} named {entry.name!r} or coded {entry.code!r} is already registered")
        self._by_name[entry.name] = entry
        return entry

    def get(self, name: str) -> Entry:
        """The entry called `name`; SpecError naming the known ones if there is none."""
        if name not in self._by_name:
            raise SpecError(f"{self.what} {name!r} is not one of {self.names}")
        return self._by_name[name]

    def by_code(self, code: str) -> Entry:
        for entry in self._by_name.values():
            if entry.code == code:
                return entry
        raise SpecError(f"{self.what} code {code!r} is not one of {tuple(e.code for e in self._by_name.values())}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(entry.code for entry in self._by_name.values())

    def __iter__(self) -> Iterator[str]:
        """The names, so a registry reads like the tuple of choices it replaces."""
        return iter(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __len__(self) -> int:
        return len(self._by_name)

    def entries(self) -> tuple[Entry, ...]:
        return tuple(self._by_name.values())


@dataclass(frozen=True)
class BlockKind:
    """One kind of conv block. Costs are per image; `pixels` is the output map's height x width."""

    name: str  # in arch.json and a space's TOML
    code: str  # in the notation: sep_k5_d2_c32_s1
    module: str  # the class in blocks.py, and in an exported model.py
    summary: str  # what it computes, in one line
    macs: Callable[..., int]  # (c_in, c_out, *, kernel, pixels) -> conv multiply-adds
    params: Callable[..., int]  # (c_in, c_out, *, kernel) -> conv weights + BatchNorm scale and shift
    source: str  # the class as model.py writes it: the same layers and state-dict keys as `module`


_STANDARD_SOURCE = '''
class StandardBlock(nn.Module):
    """k x k conv with dilation, BatchNorm, activation; optional residual add."""

    def __init__(self, c_in, c_out, kernel, dilation, stride, residual, act):
        super().__init__()
        self.conv = ConvBNAct(c_in, c_out, kernel, stride, dilation, act=act)
        self.residual = residual

    def forward(self, x):
        out = self.conv(x)
        return out + x if self.residual else out
'''

_SEPARABLE_SOURCE = '''
class SeparableBlock(nn.Module):
    """Depthwise k x k conv with dilation, then pointwise 1x1; optional residual add."""

    def __init__(self, c_in, c_out, kernel, dilation, stride, residual, act):
        super().__init__()
        self.depthwise = ConvBNAct(c_in, c_in, kernel, stride, dilation, c_in, act=act)
        self.pointwise = ConvBNAct(c_in, c_out, 1, act=act)
        self.residual = residual

    def forward(self, x):
        out = self.pointwise(self.depthwise(x))
        return out + x if self.residual else out
'''

BLOCK_KINDS: Registry[BlockKind] = Registry(
    "block kind",
    (
        BlockKind(
            name="standard",
            code="std",
            module="StandardBlock",
            summary="k x k conv with dilation d, BatchNorm, activation",
            macs=lambda c_in, c_out, *, kernel, pixels: pixels * c_out * c_in * kernel**2,
            params=lambda c_in, c_out, *, kernel: c_in * c_out * kernel**2 + 2 * c_out,
            source=_STANDARD_SOURCE,
        ),
        BlockKind(
            name="separable",
            code="sep",
            module="SeparableBlock",
            summary="depthwise k x k conv with dilation d (groups = C_in), BatchNorm, activation; "
            "then pointwise 1 x 1 conv, BatchNorm, activation",
            # The depthwise conv, then the pointwise one.
            macs=lambda c_in, c_out, *, kernel, pixels: pixels * c_in * kernel**2 + pixels * c_in * c_out,
            params=lambda c_in, c_out, *, kernel: c_in * kernel**2 + 2 * c_in + c_in * c_out + 2 * c_out,
            source=_SEPARABLE_SOURCE,
        ),
    ),
)

STEM_KIND = "standard"  # the stem is one standard conv (without a residual), and costs as one


@dataclass(frozen=True)
class HeadKind:
    """How the last feature map (channels x height x width) becomes the classifier's inputs."""

    name: str  # in arch.json and a space's TOML
    code: str  # in the notation: flat_h32
    module: str  # the pooling class in heads.py
    summary: str
    features: Callable[..., int]  # (channels, *, height, width, pool) -> inputs of the first linear layer
    source: str  # model.py's pooling layer, formatted with `pool`
    pooled: bool = False  # takes a pool size (the side of the grid it averages down to)
    sized: bool = False  # its features depend on the input size: a transfer to another size re-creates the head


HEAD_KINDS: Registry[HeadKind] = Registry(
    "head kind",
    (
        HeadKind(
            name="gap",
            code="gap",
            module="GlobalPool",
            summary="global average pooling: one feature per channel",
            features=lambda channels, *, height, width, pool: channels,
            source="nn.AdaptiveAvgPool2d(1)",
        ),
        HeadKind(
            name="flatten",
            code="flat",
            module="KeepMap",
            summary="the whole last map, flattened: the layout kept, one feature per channel and pixel",
            features=lambda channels, *, height, width, pool: channels * height * width,
            source="nn.Identity()",
            sized=True,
        ),
        HeadKind(
            name="pool",
            code="pool",
            module="GridPool",
            summary="average pooling to a pool x pool grid, flattened: a coarse layout at a fixed cost",
            features=lambda channels, *, height, width, pool: channels * pool * pool,
            source="nn.AdaptiveAvgPool2d({pool})",
            pooled=True,
        ),
    ),
)


def head_macs(features: int, *, hidden: int, classes: int) -> int:
    """Multiply-adds of the optional hidden layer and the classifier; pooling counts none."""
    return features * hidden + hidden * classes if hidden else features * classes


def head_params(features: int, *, hidden: int, classes: int) -> int:
    """Weights and biases of the optional hidden layer and the classifier."""
    return features * hidden + hidden + hidden * classes + classes if hidden else features * classes + classes
