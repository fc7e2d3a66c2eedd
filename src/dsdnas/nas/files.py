"""The one way dsdnas writes a file: a temporary name in the same folder, fsync, rename.

A kill at any moment leaves either the old file or the new one, never half of one. JSON
and safetensors weights are read and written here too, with errors that name the file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from dsdnas.errors import RunError

_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK  # what open() would give; mkstemp alone gives 0600


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call `write(temporary_path)`, flush it to disk, then rename it to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    partial = Path(name)
    try:
        os.chmod(partial, FILE_MODE)
        write(partial)
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda partial: partial.write_text(text, encoding="utf-8"))


def write_json(path: str | Path, data: Any) -> Path:
    return write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: str | Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path} does not exist") from None
    except json.JSONDecodeError as error:
        raise RunError(f"{path} is not valid JSON (line {error.lineno}): {error.msg}") from None


def save_weights(path: str | Path, state: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> Path:
    tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in state.items()}
    return atomic_write(path, lambda partial: save_file(tensors, str(partial), metadata=metadata))


def load_weights(path: str | Path) -> dict[str, torch.Tensor]:
    if not Path(path).exists():
        raise RunError(f"weights file {path} does not exist")
    return load_file(str(path))
