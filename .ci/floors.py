"""Print pip constraints pinning each runtime dependency to its floor in pyproject.toml.

CI installs against them, so a floor we claim is a floor we test. torch and torchvision
stay at the version installed from this machine's disk.
"""

import re
import sys
import tomllib
from pathlib import Path

UNPINNED = {"torch", "torchvision"}

project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]
for requirement in project["dependencies"]:
    match = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([^,]+)(,.*)?", requirement)
    if match is None:
        sys.exit(f"pyproject.toml: dependency {requirement!r} has no >= floor")
    if match[1] not in UNPINNED:
        print(f"{match[1]}=={match[2]}")
