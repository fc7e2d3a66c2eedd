"""Print pip constraints pinning each dependency to its floor in pyproject.toml: the runtime ones and
every extra's (export, postgres, dev).

CI installs against them, so a floor we claim is a floor we test. torch and torchvision
stay at the version installed from this machine's disk. A requirement pinned with ==
(ruff: its rules change between releases) is printed as it is.
"""

import re
import sys
import tomllib
from pathlib import Path

UNPINNED = {"torch", "torchvision"}

project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]
requirements = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]
floors: dict[str, str] = {}
for requirement in requirements:
    # A constraints file takes no extras: psycopg[binary]>=3.1.4 is pinned as psycopg==3.1.4.
    match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[a-z,]+\])?(>=|==)([^,;]+)(,.*)?", requirement)
    if match is None:
        sys.exit(f"pyproject.toml: dependency {requirement!r} has no >= floor")
    name, version = match[1], match[4]
    if name in UNPINNED:
        continue
    if floors.setdefault(name, version) != version:
        sys.exit(f"pyproject.toml: {name} has two floors, {floors[name]} and {version}")
for name, version in floors.items():
    print(f"{name}=={version}")
