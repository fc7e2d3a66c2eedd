"""Search spaces: declarative choices (TOML) and `sample(trial, input_shape, classes) -> Arch`."""

from dsdnas.search_spaces._layers import sample_archs, space_layers
from dsdnas.search_spaces._parse import parse_space, read_space_file
from dsdnas.search_spaces._registry import (
    BUILTIN_NAMES,
    DEFAULT_SPACE,
    get_space,
    list_spaces,
    register_space,
    space_argument,
)
from dsdnas.search_spaces._space import SearchSpace

__all__ = [
    "BUILTIN_NAMES",
    "DEFAULT_SPACE",
    "SearchSpace",
    "get_space",
    "list_spaces",
    "parse_space",
    "read_space_file",
    "register_space",
    "sample_archs",
    "space_argument",
    "space_layers",
]
