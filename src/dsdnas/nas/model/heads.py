"""The pooling that starts each kind of head, as `nn.Module` classes named by `kinds.HEAD_KINDS`.

Each takes the head's grid side (`pool`, 0 where the kind has none) and leaves a map that
the network flattens into the classifier's inputs. None holds parameters, so the state
dict of a global-pooling network is what it was before head kinds.
"""

from __future__ import annotations

from torch import nn

from dsdnas.nas.model.kinds import HEAD_KINDS


class GlobalPool(nn.AdaptiveAvgPool2d):
    """Global average pooling: one value per channel."""

    def __init__(self, pool: int = 0) -> None:
        super().__init__(1)


class GridPool(nn.AdaptiveAvgPool2d):
    """Average pooling to a pool x pool grid."""

    def __init__(self, pool: int) -> None:
        super().__init__(pool)


class KeepMap(nn.Identity):
    """The whole map, as it is."""

    def __init__(self, pool: int = 0) -> None:
        super().__init__()


def head_pool(kind: str, pool: int) -> nn.Module:
    """The pooling layer of a head of kind `kind`: the class its entry in the head table names."""
    return globals()[HEAD_KINDS.get(kind).module](pool)
