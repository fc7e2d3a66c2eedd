"""The Python API: `dsdnas.search(...)` does what `dsdnas search` does, from a notebook.

This layer joins the engine (`nas`) to the search spaces; the CLI calls it and only
wires options and prints.
"""

from __future__ import annotations

import functools
import re
import time
from pathlib import Path
from typing import Any

import torch

from dsdnas.errors import DsdnasError
from dsdnas.nas import data as data_sources
from dsdnas.nas.budget import parse_budget
from dsdnas.nas.device import resolve_device
from dsdnas.nas.events import SearchObserver
from dsdnas.nas.objective import CandidateObjective, Limits
from dsdnas.nas.rundir import RunDir
from dsdnas.nas.study import SearchResult, SearchSettings, check_objectives, open_study, run_search, save_run_json
from dsdnas.nas.tensors import to_device
from dsdnas.nas.train import TrainConfig
from dsdnas.search_spaces import DEFAULT_SPACE, get_space


def default_dataset(data_dir: str | None = None) -> tuple[str, str]:
    """MNIST when it is on disk or downloadable, else the bundled sample; with a note."""
    if data_sources.mnist_available(data_dir):
        return "mnist", ""
    why = "DSDNAS_OFFLINE=1" if data_sources.offline() else "not on disk and the download failed"
    return "mnist-sample", f"MNIST is unavailable ({why}); using the bundled mnist-sample (4,000 train images)"


@functools.lru_cache(maxsize=4)
def load_dataset_cached(name: str, data_dir: str | None, image_size: int | None, color: str) -> data_sources.Dataset:
    """Decode each dataset once per process."""
    return data_sources.load_dataset(name, data_dir=data_dir, image_size=image_size, color=color)


def slug(text: str) -> str:
    """A file- and study-safe name: letters, digits, '-', '_' and '.'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")[:80] or "study"


def _hide_password(url: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def search(
    budget: str | int = 50,
    dataset: str | None = None,
    space: str = DEFAULT_SPACE,
    epochs: int = 3,
    batch_size: int = 64,
    objectives: tuple[str, ...] | str = ("accuracy", "macs"),
    sampler: str = "tpe",
    seed: int = 0,
    device: str = "auto",
    out: str | Path | None = None,
    storage: str | None = None,
    study: str | None = None,
    val_fraction: float = 0.1,
    train_limit: int | None = None,
    max_macs: float | None = None,
    max_params: float | None = None,
    max_latency_ms: float | None = None,
    augment: bool = False,
    optimizer: str = "adamw",
    schedule: str = "onecycle",
    label_smoothing: float = 0.0,
    data_dir: str | None = None,
    image_size: int | None = None,
    color: str = "auto",
    observer: SearchObserver | None = None,
) -> SearchResult:
    """Run (or continue) a multi-objective architecture search; see `dsdnas search --help`."""
    started = time.monotonic()  # a time budget counts from the call, data loading included
    observer = observer or SearchObserver()
    parsed_budget = parse_budget(budget)
    if isinstance(objectives, str):
        objectives = tuple(name.strip() for name in objectives.split(",") if name.strip())
    objectives = check_objectives(tuple(objectives))
    if epochs < 1 or batch_size < 2:
        raise DsdnasError(f"--epochs must be >= 1 and --batch-size >= 2 (got {epochs} and {batch_size})")
    limits = Limits(max_macs, max_params, max_latency_ms)
    search_space = get_space(space)
    note = ""
    if dataset is None:
        dataset, note = default_dataset(data_dir)
    torch_device = resolve_device(device)
    full = load_dataset_cached(dataset, data_dir, image_size, color)
    search_space.check_feasible(full.input_shape)
    limited = data_sources.limit_train(full, train_limit, seed)
    device_data = to_device(limited, torch_device, val_fraction, seed)

    train_config = TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        optimizer=optimizer,
        schedule=schedule,
        label_smoothing=label_smoothing,
        augment=augment,
        seed=seed,
    )
    settings = SearchSettings(
        dataset=dataset,
        space=search_space.name,
        space_choices=search_space.describe(),
        objectives=objectives,
        train={k: v for k, v in train_config.__dict__.items() if k != "seed"},
        val_fraction=val_fraction,
        train_limit=train_limit,
        seed=seed,
        limits=limits.__dict__,
        input_shape=full.input_shape,
        class_names=full.class_names,
        mean=device_data.mean,
        std=device_data.std,
        image_size=image_size,
        color=color,
    )
    study_name = study or slug(f"{search_space.name}-{dataset}")
    run_dir = RunDir(out or Path("runs") / slug(study_name))
    run_dir.root.mkdir(parents=True, exist_ok=True)
    storage_url = storage or run_dir.storage_url
    optuna_study = open_study(storage_url, study_name, settings, sampler, seed, shared=storage is not None)
    save_run_json(
        run_dir,
        optuna_study,
        _hide_password(storage) if storage else None,
        {
            "budget": str(budget),
            "device": str(torch_device),
            "torch": torch.__version__,
            "dsdnas": _version(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        },
    )
    objective = CandidateObjective(search_space, device_data, train_config, objectives, limits, run_dir, observer)
    size = search_space.size(full.input_shape)
    result = run_search(optuna_study, objective, run_dir, parsed_budget, observer, size, note, started)
    from dsdnas.api_report import report  # the report needs a finished run.json and study

    report(run_dir.root, storage=storage)
    return result


def _version() -> str:
    from dsdnas import __version__

    return __version__


def load_run(run: str | Path, storage: str | None = None) -> tuple[RunDir, Any, dict]:
    """Open a run directory's study; returns (run_dir, study, run.json contents)."""
    import optuna

    from dsdnas.nas.rundir import read_json
    from dsdnas.nas.study import open_storage

    run_dir = RunDir(run).require()
    meta = read_json(run_dir.run_json)
    url = storage or meta.get("storage") or run_dir.storage_url  # None: SQLite in the run directory
    if "***" in url:
        raise DsdnasError(f"{run_dir.run_json} hides the storage password; pass --storage URL")
    try:
        study = optuna.load_study(study_name=meta["study"], storage=open_storage(url))
    except KeyError:
        raise DsdnasError(f"study {meta.get('study')!r} not found in {url}") from None
    return run_dir, study, meta
