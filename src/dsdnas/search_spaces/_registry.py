"""Named search spaces: the built-ins shipped as TOML, plus any a user registers.

`get_space` takes a registered name or a path to a TOML file. Registering a name twice
is an error, so a user's space can never silently replace a built-in one.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from dsdnas.errors import SearchSpaceError
from dsdnas.search_spaces._parse import read_space_file
from dsdnas.search_spaces._space import SearchSpace

BUILTIN_NAMES = ("dsd-tiny", "dsd-micro", "dsd-range", "dsd-mnist", "dsd-wide")
DEFAULT_SPACE = "dsd-range"
_REGISTRY: dict[str, SearchSpace] = {}


def register_space(space: SearchSpace) -> SearchSpace:
    """Add `space` under its name; a name can be registered once, a built-in's never again."""
    _load_builtins()  # first: a space registered before any lookup once kept the built-ins from loading
    if space.name in _REGISTRY:
        raise SearchSpaceError(f"a search space named {space.name!r} is already registered")
    _REGISTRY[space.name] = space
    return space


def _load_builtins() -> None:
    if BUILTIN_NAMES[-1] in _REGISTRY:  # loaded in order: the last one last
        return
    folder = resources.files("dsdnas.search_spaces") / "builtin"
    for name in BUILTIN_NAMES:
        with resources.as_file(folder / f"{name}.toml") as path:
            _REGISTRY.setdefault(name, read_space_file(path, source=f"built-in space {name}"))


def list_spaces() -> list[SearchSpace]:
    _load_builtins()
    return list(_REGISTRY.values())


def get_space(name_or_path: str) -> SearchSpace:
    """A registered space by name, or one read from a TOML file path."""
    _load_builtins()
    if name_or_path in _REGISTRY:
        return _REGISTRY[name_or_path]
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        return read_space_file(path)
    raise SearchSpaceError(
        f"unknown search space {name_or_path!r}; use one of {', '.join(_REGISTRY)} or a path to a .toml file"
    )


def space_argument(space: SearchSpace) -> str:
    """What `--space` takes to name `space` in a new process: a built-in's name, else its file.

    A space registered from Python is not registered in the next process, so its file it is.
    """
    _load_builtins()
    return space.name if space.name in BUILTIN_NAMES and _REGISTRY.get(space.name) is space else space.source
