"""Search-space parameter names as a reader says them: `s1.b0.conv` is "stage 2, block 1: kernel and dilation".

The names are those `SearchSpace.sample` gives the study's parameters; stages and blocks
are counted from 1 here, as people count them.
"""

from __future__ import annotations

import re

_PARTS = {
    "conv": "kernel and dilation",
    "kind": "standard or separable",
    "residual": "residual",
    "activation": "activation",
    "width": "width",
    "blocks": "blocks",
}
_WHOLE = {
    "stages": "number of stages",
    "stem.channels": "stem: width",
    "stem.kernel": "stem: kernel",
    "head.kind": "head: kind (gap, flatten, pool)",
    "head.pool": "head: pool grid",
    "head.hidden": "head: hidden width",
    "head.dropout": "head: dropout",
}


def parameter_label(name: str) -> str:
    """The readable label of one trial parameter; an unknown name is shown as it is."""
    if name in _WHOLE:
        return _WHOLE[name]
    if match := re.fullmatch(r"s(\d+)\.b(\d+)\.(\w+)", name):
        stage, block, part = int(match[1]) + 1, int(match[2]) + 1, match[3]
        return f"stage {stage}, block {block}: {_PARTS.get(part, part)}"
    if match := re.fullmatch(r"s(\d+)\.(\w+)", name):
        return f"stage {int(match[1]) + 1}: {_PARTS.get(match[2], match[2])}"
    return name
