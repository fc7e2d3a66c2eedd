"""dsdnas: depthwise-separable dilated NAS for small CNNs.

    import dsdnas
    model = dsdnas.build_model(arch_or_json_dict)
    result = dsdnas.search(budget=6, dataset="mnist-sample", epochs=1)

Attributes load on first use, so `dsdnas --help` starts without importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from dsdnas.version import __version__ as __version__

_EXPORTS = {
    "search": "dsdnas.api._search",
    "load_run": "dsdnas.api._runs",
    "export": "dsdnas.api._export",
    "finetune": "dsdnas.api._finetune",
    "finetune_front": "dsdnas.api._finetune_front",
    "report": "dsdnas.api._report",
    "baseline": "dsdnas.api._baseline",
    "BaselineConfig": "dsdnas.api.config",
    "SearchConfig": "dsdnas.api.config",
    "FinetuneConfig": "dsdnas.api.config",
    "ExportConfig": "dsdnas.api.config",
    "DsdnasError": "dsdnas.errors",
    "Arch": "dsdnas.nas.model.arch",
    "Block": "dsdnas.nas.model.arch",
    "Head": "dsdnas.nas.model.arch",
    "Stem": "dsdnas.nas.model.arch",
    "build_model": "dsdnas.nas.model.builder",
}
__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'dsdnas' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
