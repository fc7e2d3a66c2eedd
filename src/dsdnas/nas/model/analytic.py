"""An architecture's MACs and parameters from the kinds tables' formulas: no model is built.

fvcore's count of the built model is what a search records (`costs.py`); the tests check
that the two agree for every block and head kind. This one costs microseconds and needs
no torch, so a search space can weigh thousands of candidates by cost before it picks any
(the study's first trials spread over the cost range).
"""

from __future__ import annotations

from dsdnas.nas.model.arch import Arch
from dsdnas.nas.model.kinds import BLOCK_KINDS, STEM_KIND, head_macs, head_params


def analytic_costs(arch: Arch) -> tuple[int, int]:
    """(MACs, params) of one image's forward pass, as dsdnas counts them (conv and linear layers)."""
    shapes = arch.layer_shapes()
    stem = BLOCK_KINDS.get(STEM_KIND)
    _, height, width = shapes[0].out_shape
    macs = stem.macs(arch.input_shape[0], arch.stem.channels, kernel=arch.stem.kernel, pixels=height * width)
    params = stem.params(arch.input_shape[0], arch.stem.channels, kernel=arch.stem.kernel)
    channels = arch.stem.channels
    for block, shape in zip(arch.blocks, shapes[1:], strict=True):
        kind = BLOCK_KINDS.get(block.kind)
        pixels = shape.out_shape[1] * shape.out_shape[2]
        macs += kind.macs(channels, block.channels, kernel=block.kernel, pixels=pixels)
        params += kind.params(channels, block.channels, kernel=block.kernel)
        channels = block.channels
    features, hidden, classes = arch.head_features(), arch.head.hidden, arch.num_classes
    return macs + head_macs(features, hidden=hidden, classes=classes), params + head_params(
        features, hidden=hidden, classes=classes
    )
