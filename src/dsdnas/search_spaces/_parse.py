"""Read and validate a search space TOML file.

Every error names the file, the key and the bad value, and says what is allowed.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Any

from dsdnas.errors import SearchSpaceError
from dsdnas.nas.model.arch import ACTIVATIONS
from dsdnas.nas.model.kinds import BLOCK_KINDS, HEAD_KINDS
from dsdnas.search_spaces._space import SearchSpace

_SECTIONS: dict[str, tuple[str, ...]] = {
    "stem": ("channels", "kernel", "stride"),
    "stages": ("count", "blocks", "widths", "strides"),
    "block": ("kind", "kernel", "dilation", "residual", "activation"),
    "head": ("kind", "pool", "hidden", "dropout"),
}
_TOP_LEVEL = ("name", "description", *_SECTIONS)


class _Reader:
    """Typed access to one parsed TOML document, with errors that name `source`."""

    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data = data
        self.source = source

    def fail(self, key: str, message: str) -> SearchSpaceError:
        return SearchSpaceError(f"{self.source}: {key}: {message}")

    def section(self, name: str) -> dict[str, Any]:
        section = self.data.get(name, {} if name == "head" else None)  # [head] is optional
        if not isinstance(section, dict):
            raise self.fail(f"[{name}]", f"missing section; it needs keys {', '.join(_SECTIONS[name])}")
        unknown = sorted(set(section) - set(_SECTIONS[name]))
        if unknown:
            raise self.fail(f"{name}.{unknown[0]}", f"unknown key; allowed keys are {', '.join(_SECTIONS[name])}")
        return section

    def choices(self, section: str, key: str, kind: type, *, default: list | None = None, unique: bool = True) -> tuple:
        values = self.section(section).get(key, default)
        full_key = f"{section}.{key}"
        if values is None:
            raise self.fail(full_key, "missing; give a list of choices")
        if not isinstance(values, list):
            raise self.fail(full_key, f"must be a list of choices, got {values!r}")
        if not values:
            raise self.fail(full_key, "empty choice list; give at least one value")
        for value in values:
            # bool is a subclass of int: keep true/false out of integer lists.
            wrong_bool = isinstance(value, bool) and kind is not bool
            if wrong_bool or not isinstance(value, kind if kind is not float else (int, float)):
                raise self.fail(full_key, f"bad value {value!r}; expected {kind.__name__} values")
        if unique and len(set(values)) != len(values):
            raise self.fail(full_key, f"repeated value in {values!r}")
        return tuple(values)

    def positive_ints(self, section: str, key: str, default: list | None = None, *, least: int = 1) -> tuple[int, ...]:
        values = self.choices(section, key, int, default=default)
        for value in values:
            if value < least:
                raise self.fail(f"{section}.{key}", f"bad value {value!r}; must be >= {least}")
        return values

    def odd_kernels(self, section: str, key: str, default: list | None = None) -> tuple[int, ...]:
        values = self.positive_ints(section, key, default)
        for value in values:
            if value % 2 == 0:
                raise self.fail(f"{section}.{key}", f"even kernel {value}; kernels must be odd (1, 3, 5, 7, ...)")
        return values

    def members(
        self, section: str, key: str, allowed: Collection[str], *, default: list | None = None
    ) -> tuple[str, ...]:
        values = self.choices(section, key, str, default=default)
        for value in values:
            if value not in allowed:
                raise self.fail(f"{section}.{key}", f"bad value {value!r}; allowed: {', '.join(allowed)}")
        return values


def parse_space(data: dict[str, Any], source: str) -> SearchSpace:
    """Validate a parsed TOML document and build its `SearchSpace`."""
    reader = _Reader(data, source)
    unknown = sorted(set(data) - set(_TOP_LEVEL))
    if unknown:
        raise reader.fail(unknown[0], f"unknown key; allowed top-level keys are {', '.join(_TOP_LEVEL)}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise reader.fail("name", f"must be a non-empty string, got {name!r}")
    stride = reader.section("stem").get("stride", 1)
    if stride not in (1, 2) or isinstance(stride, bool):
        raise reader.fail("stem.stride", f"bad value {stride!r}; must be 1 or 2")

    counts, widths, strides = _stages(reader)
    return SearchSpace(
        name=name.strip(),
        description=str(data.get("description", "")),
        stem_channels=reader.positive_ints("stem", "channels"),
        stem_kernels=reader.odd_kernels("stem", "kernel", [3]),
        stem_stride=stride,
        stage_counts=counts,
        blocks_per_stage=reader.positive_ints("stages", "blocks"),
        widths=widths,
        strides=strides,
        kinds=reader.members("block", "kind", BLOCK_KINDS),
        kernels=reader.odd_kernels("block", "kernel"),
        dilations=reader.positive_ints("block", "dilation"),
        residual=reader.choices("block", "residual", bool, default=[False]),
        activations=reader.members("block", "activation", ACTIVATIONS, default=["relu"]),
        dropouts=_dropouts(reader),
        head_kinds=reader.members("head", "kind", HEAD_KINDS, default=["gap"]),
        head_pools=reader.positive_ints("head", "pool", [2]),
        head_hiddens=reader.positive_ints("head", "hidden", [0], least=0),  # 0: no hidden layer
        source=source,
    )


def _stages(reader: _Reader) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...], tuple[int, ...]]:
    """[stages]: stage counts, then one width list and one stride per possible stage."""
    counts = reader.positive_ints("stages", "count", least=0)  # 0 stages: the stem and the head alone
    widths_raw = reader.section("stages").get("widths")
    if not isinstance(widths_raw, list) or not widths_raw:
        raise reader.fail("stages.widths", f"must be a non-empty list of per-stage width lists, got {widths_raw!r}")
    widths = []
    for index, stage_widths in enumerate(widths_raw):
        if not isinstance(stage_widths, list):
            raise reader.fail(f"stages.widths[{index}]", f"must be a list of widths, got {stage_widths!r}")
        sub = _Reader({"stages": {"widths": stage_widths}}, reader.source)
        widths.append(sub.positive_ints("stages", "widths"))
    strides = reader.choices("stages", "strides", int, unique=False)
    for value in strides:
        if value not in (1, 2):
            raise reader.fail("stages.strides", f"bad value {value!r}; strides must be 1 or 2")
    deepest = max(counts)
    if len(widths) < deepest or len(strides) < deepest:
        raise reader.fail(
            "stages.count",
            f"up to {deepest} stages, but widths has {len(widths)} and strides has {len(strides)} entries; "
            f"give one per stage",
        )
    return counts, tuple(widths), strides


def _dropouts(reader: _Reader) -> tuple[float, ...]:
    values = tuple(float(v) for v in reader.choices("head", "dropout", float, default=[0.0]))
    for value in values:
        if not 0.0 <= value < 1.0:
            raise reader.fail("head.dropout", f"bad value {value!r}; must be in [0, 1)")
    return values


def read_space_file(path: str | Path, source: str | None = None) -> SearchSpace:
    """Parse a TOML file; syntax errors name the file and the line."""
    path = Path(path)
    source = source or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SearchSpaceError(f"cannot read search space file {path}: {error.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SearchSpaceError(f"{source}: TOML syntax error: {error}") from None
    return parse_space(data, source)
