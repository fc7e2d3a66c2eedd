"""The Python API: what each `dsdnas` command does, as a function.

    dsdnas.search(budget=6, dataset="mnist-sample")      # or search(config=SearchConfig(...))
    dsdnas.report("runs/demo")
    dsdnas.finetune("runs/demo", pick="best", epochs=15)
    dsdnas.export("runs/demo", pick="knee", out="shipped")

Each command's options are one dataclass in `config` (`SearchConfig`, `FinetuneConfig`,
`ExportConfig`), built once and passed whole. This layer joins the engine (`dsdnas.nas`)
to the search spaces and the reports; the CLI calls it and only wires options and prints.
Attributes load on first use, so the CLI reads the configs without importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "search": "dsdnas.api._search",
    "report": "dsdnas.api._report",
    "finetune": "dsdnas.api._finetune",
    "finetune_front": "dsdnas.api._finetune_front",
    "export": "dsdnas.api._export",
    "baseline": "dsdnas.api._baseline",
    "BaselineConfig": "dsdnas.api.config",
    "load_run": "dsdnas.api._runs",
    "Run": "dsdnas.api._runs",
    "SearchConfig": "dsdnas.api.config",
    "FinetuneConfig": "dsdnas.api.config",
    "ExportConfig": "dsdnas.api.config",
    "ModelChoice": "dsdnas.api.config",
    "trials": "dsdnas.api._inspect",
    "against_baselines": "dsdnas.api._inspect",
    "profile": "dsdnas.api._inspect",
    "compare_blocks": "dsdnas.api._inspect",
    "spaces": "dsdnas.api._inspect",
    "lut": "dsdnas.api._lut",
    "LutConfig": "dsdnas.api._lut",
    "KNEE_RULE": "dsdnas.nas.search.picks",
    "AT_END": "dsdnas.nas.search.end_latency",
    "MASK": "dsdnas.nas.search.location",
    "hide_password": "dsdnas.nas.search.location",
    "PICKS": "dsdnas.nas.search.picks",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'dsdnas.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
