"""What every command that reads a run needs: the run opened once, datasets decoded once."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, NamedTuple

import optuna

from dsdnas.errors import DsdnasError, RunError
from dsdnas.nas.datasets import sources
from dsdnas.nas.datasets.base import Dataset, offline
from dsdnas.nas.datasets.idx import mnist_available
from dsdnas.nas.files import read_json
from dsdnas.nas.runs.rundir import RunDir
from dsdnas.nas.search.location import StorageLocation
from dsdnas.nas.search.storage import open_storage, storage_failure


class Run(NamedTuple):
    """An opened run directory: its paths, its Optuna study and its run.json."""

    run_dir: RunDir
    study: optuna.Study
    meta: dict[str, Any]

    @property
    def dataset(self) -> str:
        """The dataset the run searched on, as its settings name it (absolute for folder: and npz:)."""
        return self.meta.get("settings", {}).get("dataset", "")


def load_run(run: str | Path, storage: str | None = None) -> Run:
    """Open a run directory's study; unpacks as (run_dir, study, meta)."""
    run_dir = RunDir(run).require()
    meta = read_json(run_dir.run_json)
    location = StorageLocation.for_run(storage or meta.get("storage"), run_dir)  # None: RUN/study.db
    if location.hides_password:
        raise DsdnasError(f"{run_dir.run_json} hides the storage password; pass --storage URL")
    try:  # read-only: a missing or empty study.db stays as it is
        study = optuna.load_study(study_name=meta["study"], storage=open_storage(location, read_only=True))
    except KeyError:
        raise RunError(f"study {meta.get('study')!r} not found in {location.label}") from None
    except Exception as error:  # noqa: BLE001 - a storage failure is one line; anything else is a bug
        failure = storage_failure(error, location)
        if failure is None:
            raise
        raise failure from None
    return Run(run_dir, study, meta)


@functools.lru_cache(maxsize=4)
def load_dataset_cached(name: str, *, data_dir: str | None, image_size: int | None, color: str) -> Dataset:
    """Decode each dataset once per process (call with the keywords in this order: they are the cache key)."""
    return sources.load_dataset(name, data_dir=data_dir, image_size=image_size, color=color)


def default_dataset(data_dir: str | None = None) -> tuple[str, str]:
    """MNIST when it is on disk or downloadable, else the bundled sample; with a note."""
    if mnist_available(data_dir):
        return "mnist", ""
    why = "DSDNAS_OFFLINE=1" if offline() else "not on disk and the download failed"
    return "mnist-sample", f"MNIST is unavailable ({why}); using the bundled mnist-sample (4,000 train images)"


def slug(text: str) -> str:
    """A file- and study-safe name: letters, digits, '-', '_' and '.'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")[:80] or "study"
