"""dsdnas: depthwise-separable dilated NAS for small CNNs.

import dsdnas
model = dsdnas.build_model(arch_or_json_dict)
result = dsdnas.search(budget=6, dataset="mnist-sample", epochs=1)
"""

__version__ = "0.1.0"

from dsdnas.api import load_run, search
from dsdnas.api_export import export
from dsdnas.api_finetune import finetune
from dsdnas.api_report import report
from dsdnas.errors import DsdnasError
from dsdnas.nas.arch import Arch, Block, Head, Stem
from dsdnas.nas.builder import build_model

__all__ = [
    "Arch",
    "Block",
    "DsdnasError",
    "Head",
    "Stem",
    "__version__",
    "build_model",
    "export",
    "finetune",
    "load_run",
    "report",
    "search",
]
