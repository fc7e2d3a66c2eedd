"""A candidate network as plain data.

An `Arch` is a frozen dataclass tree: input shape, stem, a tuple of conv blocks and a
head. It round-trips through JSON (`to_dict`/`from_dict`), carries a stable short hash
used to deduplicate candidates, and each block has a one-line notation such as
`sep_k5_d2_c32_s1` that encodes and decodes exactly.

Geometry lives here too, because it follows from the spec alone: every conv is padded
by d*(k-1)/2, so stride 1 keeps the spatial size and stride 2 gives ceil(H/2).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from dsdnas.errors import SpecError
from dsdnas.nas.model.head import Head
from dsdnas.nas.model.kinds import BLOCK_KINDS

__all__ = ["ACTIVATIONS", "Arch", "Block", "Head", "LayerShape", "Stem", "as_arch", "load_arch"]

# The one list of activations: notation name -> torch.nn class name. The builder and
# the code generator both read it, so a new activation is added here only.
ACTIVATIONS: dict[str, str] = {
    "relu": "ReLU",
    "relu6": "ReLU6",
    "hardswish": "Hardswish",
    "silu": "SiLU",
    "gelu": "GELU",
}


def _block_pattern() -> re.Pattern[str]:
    """sep_k5_d2_c32_s1[_res][_silu]: kind code (from the kinds table), kernel, dilation, output
    channels, stride, optional residual flag, optional activation (relu when absent)."""
    codes = "|".join(re.escape(code) for code in BLOCK_KINDS.codes)
    return re.compile(
        rf"^(?P<kind>{codes})_k(?P<k>\d+)_d(?P<d>\d+)_c(?P<c>\d+)_s(?P<s>\d+)(?P<res>_res)?(?:_(?P<act>[a-z0-9]+))?$"
    )


def effective_kernel(kernel: int, dilation: int) -> int:
    """Span in pixels of a dilated kernel: d*(k-1)+1."""
    return dilation * (kernel - 1) + 1


def conv_output_size(size: int, stride: int) -> int:
    """Output size of a conv padded by d*(k-1)/2: size for stride 1, ceil(size/2) for 2."""
    return (size - 1) // stride + 1


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise SpecError(message)


@dataclass(frozen=True)
class Stem:
    """The first, standard conv: 3x3 by default, BatchNorm and activation."""

    channels: int
    kernel: int = 3
    stride: int = 1
    activation: str = "relu"

    def __post_init__(self) -> None:
        _check(self.channels >= 1, f"stem.channels must be >= 1, got {self.channels}")
        _check(self.kernel >= 1 and self.kernel % 2 == 1, f"stem.kernel must be odd, got {self.kernel}")
        _check(self.stride in (1, 2), f"stem.stride must be 1 or 2, got {self.stride}")
        _check(
            self.activation in ACTIVATIONS, f"stem.activation {self.activation!r} is not one of {tuple(ACTIVATIONS)}"
        )


@dataclass(frozen=True)
class Block:
    """One conv block; `channels` is its output width."""

    kind: str
    kernel: int
    dilation: int
    channels: int
    stride: int = 1
    residual: bool = False
    activation: str = "relu"

    def __post_init__(self) -> None:
        BLOCK_KINDS.get(self.kind)  # an unknown kind is a SpecError naming the known ones
        _check(self.kernel >= 1 and self.kernel % 2 == 1, f"block kernel must be odd, got {self.kernel}")
        _check(self.dilation >= 1, f"block dilation must be >= 1, got {self.dilation}")
        _check(self.channels >= 1, f"block channels must be >= 1, got {self.channels}")
        _check(self.stride in (1, 2), f"block stride must be 1 or 2, got {self.stride}")
        _check(
            self.activation in ACTIVATIONS, f"block activation {self.activation!r} is not one of {tuple(ACTIVATIONS)}"
        )

    @property
    def notation(self) -> str:
        text = f"{BLOCK_KINDS.get(self.kind).code}_k{self.kernel}_d{self.dilation}_c{self.channels}_s{self.stride}"
        if self.residual:
            text += "_res"
        if self.activation != "relu":
            text += f"_{self.activation}"
        return text

    @classmethod
    def from_notation(cls, text: str) -> Block:
        """Decode `sep_k5_d2_c32_s1[_res][_act]` into a Block."""
        match = _block_pattern().match(text.strip())
        if match is None:
            raise SpecError(
                f"block notation {text!r} does not match kind_kK_dD_cC_sS[_res][_act], e.g. sep_k5_d2_c32_s1"
            )
        return cls(
            kind=BLOCK_KINDS.by_code(match["kind"]).name,
            kernel=int(match["k"]),
            dilation=int(match["d"]),
            channels=int(match["c"]),
            stride=int(match["s"]),
            residual=match["res"] is not None,
            activation=match["act"] or "relu",
        )


@dataclass(frozen=True)
class LayerShape:
    """Where one conv layer runs: its input map size and its output shape."""

    name: str
    in_size: tuple[int, int]
    out_shape: tuple[int, int, int]


@dataclass(frozen=True)
class Arch:
    """A whole candidate network: input (C, H, W), classes, stem, blocks and head."""

    input_shape: tuple[int, int, int]
    num_classes: int
    stem: Stem
    blocks: tuple[Block, ...]
    head: Head = field(default_factory=Head)

    def __post_init__(self) -> None:
        _check(
            len(self.input_shape) == 3 and all(v >= 1 for v in self.input_shape),
            f"input_shape must be [C, H, W] of positive ints, got {list(self.input_shape)}",
        )
        _check(self.num_classes >= 2, f"num_classes must be >= 2, got {self.num_classes}")
        in_channels = self.stem.channels
        for index, block in enumerate(self.blocks):
            if block.residual:
                _check(
                    block.stride == 1 and block.channels == in_channels,
                    f"blocks[{index}] ({block.notation}) asks for a residual, but its input "
                    f"({in_channels} channels) and output ({block.channels} channels, stride "
                    f"{block.stride}) differ in shape",
                )
            in_channels = block.channels

    # Geometry -----------------------------------------------------------------
    def layer_shapes(self) -> list[LayerShape]:
        """Input map size and output shape of the stem and of every block."""
        _, height, width = self.input_shape
        shapes = []
        stride = self.stem.stride
        height, width = conv_output_size(height, stride), conv_output_size(width, stride)
        shapes.append(LayerShape("stem", tuple(self.input_shape[1:]), (self.stem.channels, height, width)))
        for index, block in enumerate(self.blocks):
            in_size = (height, width)
            height, width = conv_output_size(height, block.stride), conv_output_size(width, block.stride)
            shapes.append(LayerShape(f"blocks.{index}", in_size, (block.channels, height, width)))
        return shapes

    def receptive_field(self) -> int:
        """Analytic receptive field in input pixels of one output of the last conv."""
        field_px, jump = self.stem.kernel, self.stem.stride
        for block in self.blocks:
            field_px += (effective_kernel(block.kernel, block.dilation) - 1) * jump
            jump *= block.stride
        return field_px

    def infeasible_blocks(self) -> list[str]:
        """Blocks whose effective kernel exceeds the map they run on."""
        problems = []
        for block, shape in zip(self.blocks, self.layer_shapes()[1:], strict=True):
            span = effective_kernel(block.kernel, block.dilation)
            if span > min(shape.in_size):
                problems.append(
                    f"{shape.name} ({block.notation}) spans {span} px on a {shape.in_size[0]}x{shape.in_size[1]} map"
                )
        return problems

    # Text forms ---------------------------------------------------------------
    def head_features(self) -> int:
        """Inputs of the head's first linear layer: from the last map's shape and the head kind."""
        channels, height, width = self.layer_shapes()[-1].out_shape
        return self.head.features(channels, height, width)

    @property
    def notation(self) -> str:
        """One line: stem, each block's notation, then the head unless it is the default global pooling."""
        stem = f"stem_k{self.stem.kernel}_c{self.stem.channels}_s{self.stem.stride}"
        head = [] if self.head.is_default else [f"head_{self.head.notation}"]
        return " ".join([stem, *(block.notation for block in self.blocks), *head])

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["input_shape"] = list(self.input_shape)
        data["blocks"] = [asdict(block) for block in self.blocks]
        data["head"] = self.head.to_dict()
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @property
    def hash(self) -> str:
        """12 hex digits of SHA-256 over the canonical JSON; stable across runs."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Arch:
        """Build from the dict read from JSON; errors name the bad field."""
        if not isinstance(data, dict):
            raise SpecError(f"an architecture must be a JSON object, got {type(data).__name__}")
        expected = {"input_shape", "num_classes", "stem", "blocks", "head"}
        unknown = set(data) - expected
        missing = {"input_shape", "num_classes", "stem", "blocks"} - set(data)
        _check(not unknown, f"unknown architecture field(s): {sorted(unknown)}")
        _check(not missing, f"architecture misses field(s): {sorted(missing)}")
        try:
            return cls(
                input_shape=tuple(int(v) for v in data["input_shape"]),
                num_classes=int(data["num_classes"]),
                stem=Stem(**data["stem"]),
                blocks=tuple(Block(**block) for block in data["blocks"]),
                head=Head(**data.get("head", {})),
            )
        except TypeError as error:  # unknown or missing keyword in a sub-object
            raise SpecError(f"invalid architecture field: {error}") from None

    @classmethod
    def from_json(cls, text: str) -> Arch:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as error:
            raise SpecError(f"architecture JSON is invalid at line {error.lineno}: {error.msg}") from None


def load_arch(path: str) -> Arch:
    """Read an `arch.json` file; errors name the file."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise SpecError(f"cannot read architecture file {path}: {error.strerror}") from None
    try:
        return Arch.from_json(text)
    except SpecError as error:
        raise SpecError(f"{path}: {error}") from None


def as_arch(spec: Arch | dict[str, Any]) -> Arch:
    """Accept an Arch or the dict read from its JSON."""
    return spec if isinstance(spec, Arch) else Arch.from_dict(spec)
