"""The run directory: where a search keeps everything it finishes, written atomically.

    RUN/study.db             SQLite Optuna storage (unless --storage names another)
    RUN/run.json             the settings and dataset statistics of the run
    RUN/trials.csv           one row per trial
    RUN/trials/<n>/          arch.json, weights.safetensors, metrics.json of trial n
    RUN/pareto.json          the Pareto front
    RUN/report.html          the report

Every file is written to a temporary name in the same folder and renamed into place,
so a kill at any moment leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from dsdnas.errors import RunError

WEIGHTS_FILE = "weights.safetensors"
_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK  # what open() would give; mkstemp alone gives 0600


def _atomic_path(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    os.chmod(name, FILE_MODE)
    return Path(name)


def write_text(path: str | Path, text: str) -> None:
    path = Path(path)
    partial = _atomic_path(path)
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_json(path: str | Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: str | Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path} does not exist") from None
    except json.JSONDecodeError as error:
        raise RunError(f"{path} is not valid JSON (line {error.lineno}): {error.msg}") from None


def save_weights(path: str | Path, state: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    path = Path(path)
    partial = _atomic_path(path)
    try:
        tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in state.items()}
        save_file(tensors, str(partial), metadata=metadata)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def load_weights(path: str | Path) -> dict[str, torch.Tensor]:
    if not Path(path).exists():
        raise RunError(f"weights file {path} does not exist")
    return load_file(str(path))


class RunDir:
    """Paths inside one run directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def storage_url(self) -> str:
        return f"sqlite:///{(self.root / 'study.db').resolve()}"

    @property
    def run_json(self) -> Path:
        return self.root / "run.json"

    @property
    def trials_csv(self) -> Path:
        return self.root / "trials.csv"

    @property
    def pareto_json(self) -> Path:
        return self.root / "pareto.json"

    @property
    def report_html(self) -> Path:
        return self.root / "report.html"

    @property
    def finetune_root(self) -> Path:
        return self.root / "finetune"

    def trial_dir(self, number: int) -> Path:
        return self.root / "trials" / str(number)

    def require(self) -> RunDir:
        """Fail clearly unless this is a run directory that a search wrote."""
        if not self.run_json.exists():
            raise RunError(
                f"{self.root} is not a dsdnas run directory (no run.json); run `dsdnas search --out {self.root}`"
            )
        return self
