"""Write an architecture as readable, standalone PyTorch source.

The generated `model.py` imports only torch (and safetensors inside `load`). It holds one
class per block kind the model uses (its source from the kinds table, `kinds.BLOCK_KINDS`)
and one model class whose layers are written out.
Its state dict keys equal those of `dsdnas.build_model`, so the weights file is the
trained state dict as is. Input normalization happens inside `forward`.

No user string is ever pasted in as code: strings are written as JSON literals and the
docstring is escaped. The one identifier a user chooses, the model's class name, must
be an ASCII identifier that is no keyword and no name the file already uses (`Path`,
`torch`, `load`, ...): `check_class_name` derives that list from the templates.
"""

from __future__ import annotations

import ast
import builtins
import functools
import json
import keyword
import math
import re
import unicodedata
from typing import Any

from dsdnas.errors import ExportError
from dsdnas.nas.model.arch import ACTIVATIONS, Arch, Block, Stem
from dsdnas.nas.model.kinds import BLOCK_KINDS, HEAD_KINDS

_CONV_BN_ACT = '''
class ConvBNAct(nn.Sequential):
    """Conv2d (no bias, padding d*(k-1)/2), BatchNorm2d, activation."""

    def __init__(self, c_in, c_out, kernel, stride=1, dilation=1, groups=1, act=nn.ReLU):
        padding = dilation * (kernel - 1) // 2
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel, stride, padding, dilation, groups, bias=False),
            nn.BatchNorm2d(c_out),
            act(),
        )
'''


def sanitize_identifier(name: str, taken: set[str] | frozenset[str] = frozenset(), fallback: str = "Net") -> str:
    """An ASCII Python identifier from any string, unique against `taken`."""
    ascii_name = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    ident = re.sub(r"\W", "_", ascii_name).strip("_") or fallback
    if ident[0].isdigit():
        ident = f"{fallback}_{ident}"
    if keyword.iskeyword(ident) or keyword.issoftkeyword(ident) or ident in dir(builtins):
        ident = f"{ident}_"
    base, counter = ident, 2
    while ident in taken:
        ident, counter = f"{base}_{counter}", counter + 1
    return ident


def _names_used(source: str) -> set[str]:
    """Every name a module defines, imports, binds or reads."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


_PLACEHOLDER = "DsdnasPlaceholderNet"


@functools.cache
def reserved_names() -> frozenset[str]:
    """The names a generated model.py uses, whatever blocks it holds: a class name must avoid them."""
    every_kind = tuple(Block(kind, 3, 1, 4) for kind in BLOCK_KINDS)
    arch = Arch((1, 8, 8), 2, Stem(4), every_kind)
    source = _source(arch, _PLACEHOLDER, mean=(0.5,), std=(0.5,), class_names=["a", "b"], header=[], version="")
    return frozenset(_names_used(source) - {_PLACEHOLDER})


def check_class_name(name: str) -> str:
    """`name` itself, or ExportError with one line saying why it cannot name the model class."""
    suggestion = sanitize_identifier(f"{name}Net" if name in reserved_names() else name, reserved_names())
    why = None
    if not name.isascii() or not name.isidentifier():
        why = "is not an ASCII Python identifier (letters, digits and _, not starting with a digit)"
    elif keyword.iskeyword(name) or keyword.issoftkeyword(name):
        why = "is a Python keyword"
    elif name in dir(builtins):
        why = "would shadow a Python builtin"
    elif name in reserved_names():
        why = "is already used inside model.py"
    if why is not None:
        raise ExportError(f"--name {name!r} {why}; choose another class name, e.g. {suggestion}")
    return name


def docstring_text(text: str) -> str:
    """Text safe inside a triple-quoted docstring: ASCII, no closing quotes, no escapes."""
    escaped = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return "".join(
        c if 32 <= ord(c) < 127 or c == "\n" else f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}"
        for c in escaped
    )


def _layer(arch: Arch, index: int, in_channels: int) -> str:
    block = arch.blocks[index]
    class_name = BLOCK_KINDS.get(block.kind).module
    return (
        f"{class_name}({in_channels}, {block.channels}, kernel={block.kernel}, dilation={block.dilation}, "
        f"stride={block.stride}, residual={block.residual}, act=nn.{ACTIVATIONS[block.activation]}),"
    )


def literal(value: Any) -> str:
    """Python source for a value: ASCII-only strings, nan/inf as float("..."), tuples kept."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=True)  # a JSON string is a valid, ASCII Python literal
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f'float("{value}")'
    if isinstance(value, tuple):
        items = ", ".join(literal(v) for v in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return repr(value)


def _literal_lines(name: str, values: list[Any]) -> list[str]:
    one_line = f"{name} = {literal(values)}"
    if len(one_line) <= 88:
        return [one_line]
    return [f"{name} = ["] + [f"    {literal(value)}," for value in values] + ["]"]


def generate_source(
    arch: Arch,
    class_name: str,
    *,
    mean: tuple[float, ...],
    std: tuple[float, ...],
    class_names: list[str],
    header: list[str],
    version: str,
) -> str:
    """The whole model.py text. `header` lines go into the module docstring, escaped."""
    return _source(
        arch, check_class_name(class_name), mean=mean, std=std, class_names=class_names, header=header, version=version
    )


def _source(
    arch: Arch,
    model_class: str,
    *,
    mean: tuple[float, ...],
    std: tuple[float, ...],
    class_names: list[str],
    header: list[str],
    version: str,
) -> str:
    used = [kind for kind in BLOCK_KINDS.entries() if any(block.kind == kind.name for block in arch.blocks)]
    lines = [
        *_module_head(arch, model_class, header=header, version=version),
        *_literal_lines("CLASS_NAMES", list(class_names)),
        f"INPUT_SHAPE = {literal(tuple(arch.input_shape))}",
        f"MEAN = {literal(tuple(float(v) for v in mean))}  # per channel, of the training images in [0, 1]",
        f"STD = {literal(tuple(float(v) for v in std))}",
        "",
        _CONV_BN_ACT.rstrip(),
        "",
        *(kind.source.rstrip() + "\n" for kind in used),
        "",
        *_model_class(arch, model_class),
        "",
        "",
        *_load_function(model_class),
    ]
    return "\n".join(lines)


def _module_head(arch: Arch, model_class: str, *, header: list[str], version: str) -> list[str]:
    """The module docstring and imports."""
    return [
        f'"""{model_class}: a small CNN found by dsdnas {docstring_text(version)}.',
        "",
        "\n".join(docstring_text(line) for line in header),
        "",
        "Input: float images in [0, 1] shaped N x "
        + " x ".join(map(str, arch.input_shape))
        + "; normalization happens inside forward.",
        "",
        "Usage:",
        "    from model import load",
        "    model = load()  # reads weights.safetensors next to this file",
        "    logits = model(images)",
        '"""',
        "",
        "from pathlib import Path",
        "",
        "import torch",
        "from torch import nn",
        "",
    ]


def _model_class(arch: Arch, model_class: str) -> list[str]:
    """The model class, every layer written out."""
    stem = arch.stem
    lines = [
        f"class {model_class}(nn.Module):",
        f'    """{docstring_text(arch.notation)}"""',
        "",
        "    def __init__(self):",
        "        super().__init__()",
        "        shape = (1, len(MEAN), 1, 1)",
        '        self.register_buffer("mean", torch.tensor(MEAN).view(shape), persistent=False)',
        '        self.register_buffer("std", torch.tensor(STD).view(shape), persistent=False)',
        f"        self.stem = ConvBNAct({arch.input_shape[0]}, {stem.channels}, {stem.kernel}, "
        f"{stem.stride}, act=nn.{ACTIVATIONS[stem.activation]})",
        "        self.blocks = nn.Sequential(",
    ]
    in_channels = stem.channels
    for index, block in enumerate(arch.blocks):
        lines.append(f"            {_layer(arch, index, in_channels)}")
        in_channels = block.channels
    return [*lines, "        )", *_head_lines(arch)]


def _head_lines(arch: Arch) -> list[str]:
    """The head's layers and `forward`; a global-pooling head with no hidden layer reads as it always did."""
    head, features = arch.head, arch.head_features()
    pool = HEAD_KINDS.get(head.kind).source.format(pool=head.pool)
    layers = [f"        self.pool = {pool}"]
    features_expression = "self.pool(x).flatten(1)"
    if head.hidden:
        layers.append(f"        self.hidden = nn.Sequential(nn.Linear({features}, {head.hidden}), nn.ReLU())")
        features_expression = f"self.hidden({features_expression})"
    return [
        *layers,
        f"        self.dropout = nn.Dropout({literal(float(head.dropout))})",
        f"        self.classifier = nn.Linear({head.hidden or features}, {arch.num_classes})",
        "",
        "    def forward(self, x):",
        "        x = (x - self.mean) / self.std",
        "        x = self.blocks(self.stem(x))",
        f"        return self.classifier(self.dropout({features_expression}))",
    ]


def _load_function(model_class: str) -> list[str]:
    return [
        f'def load(weights_path=None, device="cpu") -> {model_class}:',
        '    """The model with its trained weights, in eval mode."""',
        "    from safetensors.torch import load_file",
        "",
        '    path = weights_path or Path(__file__).with_name("weights.safetensors")',
        f"    model = {model_class}()",
        "    model.load_state_dict(load_file(str(path)))",
        "    return model.to(device).eval()",
        "",
    ]
