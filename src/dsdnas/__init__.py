"""dsdnas: depthwise-separable dilated NAS for small CNNs.

    import dsdnas
    model = dsdnas.build_model(arch_or_json_dict)
    result = dsdnas.search(budget=6, dataset="mnist-sample", epochs=1)

Attributes load on first use, so `dsdnas --help` starts without importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "search": "dsdnas.api",
    "load_run": "dsdnas.api",
    "export": "dsdnas.api_export",
    "finetune": "dsdnas.api_finetune",
    "report": "dsdnas.api_report",
    "DsdnasError": "dsdnas.errors",
    "Arch": "dsdnas.nas.arch",
    "Block": "dsdnas.nas.arch",
    "Head": "dsdnas.nas.arch",
    "Stem": "dsdnas.nas.arch",
    "build_model": "dsdnas.nas.builder",
}
__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'dsdnas' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
