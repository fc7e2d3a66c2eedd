"""A candidate's head as data: how its last feature map becomes class scores.

    pooling (the head kind: gap, flatten, or pool to a P x P grid), flatten,
    [hidden linear layer of H units, ReLU], dropout, linear classifier

The kind comes from the head table (`kinds.HEAD_KINDS`). The notation reads `gap`,
`flat_h32`, `pool4_h16_drop0.1`: the kind's code (with the grid side for `pool`), then the
hidden width and the dropout when set; it decodes back to the same head. A global-pooling
head with no hidden layer writes only its dropout into arch.json, as before head kinds
existed, so the architectures of older runs keep their hashes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dsdnas.errors import SpecError
from dsdnas.nas.model.kinds import HEAD_KINDS

DEFAULT_KIND = "gap"


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise SpecError(message)


@dataclass(frozen=True)
class Head:
    """The head: pooling of kind `kind` (to a `pool` x `pool` grid for the pool kind), an optional
    hidden layer of `hidden` units (0: none), dropout, then the classifier."""

    dropout: float = 0.0
    kind: str = DEFAULT_KIND
    pool: int = 0  # the grid side of a pool head; 0 for the others
    hidden: int = 0  # units of the hidden linear layer; 0: the classifier reads the features directly

    def __post_init__(self) -> None:
        _check(0.0 <= self.dropout < 1.0, f"head.dropout must be in [0, 1), got {self.dropout}")
        entry = HEAD_KINDS.get(self.kind)  # an unknown kind is a SpecError naming the known ones
        if entry.pooled:
            _check(self.pool >= 1, f"head.pool must be >= 1 for a {self.kind} head, got {self.pool}")
        else:
            _check(self.pool == 0, f"head.pool applies to a pool head only, not to {self.kind}")
        _check(self.hidden >= 0, f"head.hidden must be >= 0 (0: no hidden layer), got {self.hidden}")

    def features(self, channels: int, height: int, width: int) -> int:
        """Inputs of the first linear layer, from the last map's shape."""
        return HEAD_KINDS.get(self.kind).features(channels, height=height, width=width, pool=self.pool)

    @property
    def is_default(self) -> bool:
        """Global pooling straight into the classifier: the only head before head kinds."""
        return self.kind == DEFAULT_KIND and self.hidden == 0

    @property
    def notation(self) -> str:
        text = HEAD_KINDS.get(self.kind).code + (str(self.pool) if self.pool else "")
        if self.hidden:
            text += f"_h{self.hidden}"
        if self.dropout:
            text += f"_drop{self.dropout:g}"
        return text

    @classmethod
    def from_notation(cls, text: str) -> Head:
        """Decode `pool4_h16_drop0.1` into a Head."""
        codes = "|".join(re.escape(code) for code in HEAD_KINDS.codes)
        match = re.fullmatch(
            rf"(?P<kind>{codes})(?P<pool>\d+)?(?:_h(?P<h>\d+))?(?:_drop(?P<drop>[0-9.]+))?", text.strip()
        )
        if match is None:
            raise SpecError(f"head notation {text!r} does not match kind[P][_hH][_dropD], e.g. flat_h32 or pool4")
        return cls(
            dropout=float(match["drop"] or 0.0),
            kind=HEAD_KINDS.by_code(match["kind"]).name,
            pool=int(match["pool"] or 0),
            hidden=int(match["h"] or 0),
        )

    def to_dict(self) -> dict[str, Any]:
        """arch.json's head: only the dropout for the default head (see the module docstring)."""
        if self.is_default:
            return {"dropout": self.dropout}
        return {"dropout": self.dropout, "kind": self.kind, "pool": self.pool, "hidden": self.hidden}
