"""`dsdnas.search(...)`: run (or continue) a search, as `dsdnas search` does."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from dsdnas.api._report import write_run_report
from dsdnas.api._runs import Run, default_dataset, hide_password, load_dataset_cached, slug
from dsdnas.api.config import SearchConfig, make_config
from dsdnas.nas.datasets.device_data import DeviceData, to_device
from dsdnas.nas.datasets.sources import limit_train
from dsdnas.nas.hardware import resolve_device
from dsdnas.nas.runs.rundir import RunDir
from dsdnas.nas.search.budget import parse_budget
from dsdnas.nas.search.events import SearchObserver
from dsdnas.nas.search.loop import SearchResult, run_search
from dsdnas.nas.search.objective import CandidateObjective, Limits
from dsdnas.nas.search.study import SearchSettings, open_study, save_run_json
from dsdnas.nas.training.trainer import TrainConfig
from dsdnas.search_spaces import SearchSpace, get_space
from dsdnas.version import __version__


@dataclass
class _Prepared:
    """The search's inputs, ready: data on the device, the space, and the study's settings."""

    space: SearchSpace
    data: DeviceData
    train: TrainConfig
    limits: Limits
    settings: SearchSettings
    note: str


def search(
    *, config: SearchConfig | None = None, observer: SearchObserver | None = None, **options: Any
) -> SearchResult:
    """Run (or continue) a multi-objective architecture search; see `dsdnas search --help`.

    Pass a `SearchConfig`, or its fields as keywords: `search(budget=6, epochs=1)`.
    """
    started = time.monotonic()  # a time budget counts from the call, data loading included
    config = make_config(SearchConfig, config, options).validate()
    prepared = _prepare(config)
    study_name = config.study or slug(f"{prepared.space.name}-{prepared.settings.dataset}")
    run_dir = RunDir(config.out or Path("runs") / slug(study_name))
    run_dir.root.mkdir(parents=True, exist_ok=True)
    study = open_study(
        config.storage or run_dir.storage_url,
        study_name,
        prepared.settings,
        config.sampler,
        config.seed,
        shared=config.storage is not None,
    )
    meta = save_run_json(run_dir, study, hide_password(config.storage) if config.storage else None, _run_facts(config))
    objective = CandidateObjective(
        prepared.space,
        prepared.data,
        prepared.train,
        config.objectives,
        prepared.limits,
        run_dir,
        observer or SearchObserver(),
    )
    size = prepared.space.size(prepared.data.input_shape)
    result = run_search(
        study, objective, run_dir, parse_budget(config.budget), space_size=size, note=prepared.note, started=started
    )
    write_run_report(Run(run_dir, study, meta))
    return result


def _prepare(config: SearchConfig) -> _Prepared:
    """Load the data onto the device and fix what the study must keep constant."""
    space = get_space(config.space)
    dataset, note = (config.dataset, "") if config.dataset else default_dataset(config.data_dir)
    full = load_dataset_cached(dataset, config.data_dir, config.image_size, config.color)
    space.check_feasible(full.input_shape)
    limited = limit_train(full, config.train_limit, config.seed)
    data = to_device(limited, resolve_device(config.device), config.val_fraction, config.seed)
    train = TrainConfig(
        epochs=config.epochs,
        batch_size=config.batch_size,
        optimizer=config.optimizer,
        schedule=config.schedule,
        label_smoothing=config.label_smoothing,
        augment=config.augment,
        seed=config.seed,
    )
    limits = Limits(config.max_macs, config.max_params, config.max_latency_ms)
    settings = SearchSettings(
        dataset=dataset,
        space=space.name,
        space_choices=space.describe(),
        objectives=config.objectives,
        train={k: v for k, v in asdict(train).items() if k != "seed"},
        val_fraction=config.val_fraction,
        train_limit=config.train_limit,
        seed=config.seed,
        limits=asdict(limits),
        input_shape=full.input_shape,
        class_names=full.class_names,
        mean=data.mean,
        std=data.std,
        image_size=config.image_size,
        color=config.color,
    )
    return _Prepared(space, data, train, limits, settings, note)


def _run_facts(config: SearchConfig) -> dict[str, Any]:
    """What run.json records beside the study's settings: this invocation's budget and machine."""
    return {
        "budget": str(config.budget),
        "device": str(resolve_device(config.device)),
        "torch": torch.__version__,
        "dsdnas": __version__,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
