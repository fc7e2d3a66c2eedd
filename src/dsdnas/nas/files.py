"""The one way dsdnas writes a file: a temporary name in the same folder, fsync, rename.

A kill at any moment leaves either the old file or the new one, never half of one. JSON
and safetensors weights are read and written here too, with errors that name the file.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from dsdnas.errors import ResourceError, RunError, disk_full_message

_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK  # what open() would give; mkstemp alone gives 0600


def cache_dir() -> Path:
    """Per-user cache: $DSDNAS_CACHE, else $XDG_CACHE_HOME/dsdnas, else ~/.cache/dsdnas."""
    if os.environ.get("DSDNAS_CACHE"):
        return Path(os.environ["DSDNAS_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dsdnas"


DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def atomic_write(path: str | Path, write: Callable[[Path], None], size_hint: int | None = None) -> Path:
    """Call `write(temporary_path)`, flush it to disk, then rename it to `path`.

    A full disk raises ResourceError naming `path` and, from `size_hint` (bytes), the
    space needed; the old file, if any, is left as it was.
    """
    path = Path(path)
    partial = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(handle)
        partial = Path(name)
        write(partial)
        os.chmod(partial, FILE_MODE)  # after: some writers replace the file they are given
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, path)
    except (OSError, SafetensorError) as error:  # safetensors reports I/O errors as its own type
        if getattr(error, "errno", None) in DISK_FULL or "No space left" in str(error):
            raise ResourceError(disk_full_message(path, size_hint)) from None
        raise
    finally:
        if partial is not None:
            partial.unlink(missing_ok=True)
    return path


def write_text(path: str | Path, text: str) -> Path:
    data = text.encode("utf-8")
    return atomic_write(path, lambda partial: partial.write_bytes(data), len(data))


def write_json(path: str | Path, data: Any) -> Path:
    return write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: str | Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path} does not exist") from None
    except json.JSONDecodeError as error:
        raise RunError(f"{path} is not valid JSON (line {error.lineno}): {error.msg}") from None


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_weights(path: str | Path, state: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> str:
    """Write a state dict as safetensors; returns the file's SHA-256, to be recorded and checked on load."""
    tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in state.items()}
    size = sum(t.numel() * t.element_size() for t in tensors.values())
    atomic_write(path, lambda partial: save_file(tensors, str(partial), metadata=metadata), size)
    return file_sha256(path)


def load_weights(path: str | Path, sha256: str | None = None, retrain: str = "") -> dict[str, torch.Tensor]:
    """Read safetensors weights, checked against `sha256` when one was recorded.

    Every failure is one RunError naming the file; `retrain` says how to get new weights.
    """
    path = Path(path)
    hint = f"; {retrain}" if retrain else ""
    if not path.exists():
        raise RunError(f"weights file {path} does not exist{hint}")
    if sha256 is not None and file_sha256(path) != sha256:
        raise RunError(f"{path} does not match the SHA-256 recorded when it was written: corrupt or replaced{hint}")
    try:
        return load_file(str(path))
    except Exception as error:  # noqa: BLE001 - safetensors raises its own error types for bad files
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise RunError(f"{path} is not a readable safetensors file ({first}){hint}") from None
