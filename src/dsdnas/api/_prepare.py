"""What every search process needs before its first trial: the data on the device, the study, the objective.

`dsdnas search` runs it once; with `--jobs N` each worker process runs it again for itself.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import optuna
import torch

from dsdnas.api._lut import check_covers
from dsdnas.api._runs import default_dataset, load_dataset_cached, slug
from dsdnas.api.config import SearchConfig
from dsdnas.errors import RunError, SearchSpaceError
from dsdnas.nas.datasets.base import Dataset
from dsdnas.nas.datasets.device_data import DeviceData, to_device
from dsdnas.nas.datasets.sources import limit_train
from dsdnas.nas.hardware import machine_info, require_memory, resolve_device
from dsdnas.nas.lut import LatencySource, load_table
from dsdnas.nas.model.runtimes import DEFAULT_RUNTIME
from dsdnas.nas.runs.rundir import RunDir
from dsdnas.nas.runs.store import open_store
from dsdnas.nas.search.events import SearchObserver
from dsdnas.nas.search.location import StorageLocation
from dsdnas.nas.search.objective import CandidateObjective, Limits
from dsdnas.nas.search.rungs import RULES, Rungs, schedule
from dsdnas.nas.search.samplers import PICKED_STARTUP
from dsdnas.nas.search.study import SearchSettings, open_study, save_run_json
from dsdnas.nas.search.warm_start import SynflowStart
from dsdnas.nas.search.workers import ArchClaims, Twins, check_run_dir
from dsdnas.nas.training.trainer import TrainConfig, steps_per_epoch
from dsdnas.search_spaces import SearchSpace, get_space, space_argument
from dsdnas.version import __version__

# Candidates at log-spaced costs a new study tries after the cheapest one (search_spaces/_spread.py).
FIRST_SPREAD = int(os.environ.get("DSDNAS_FIRST_SPREAD", "0"))


@dataclass(kw_only=True)
class Prepared:
    """The search's inputs, ready: data on the device, the space, the study's settings and where it lives."""

    space: SearchSpace
    data: DeviceData
    train: TrainConfig
    limits: Limits
    rungs: Rungs | None  # where and on what early stopping judges a candidate; None when it never would
    latency_source: LatencySource  # timed in --latency-runtime, or predicted by --latency-lut
    settings: SearchSettings
    note: str
    study_name: str
    run_dir: RunDir
    storage: StorageLocation

    @property
    def space_size(self) -> int:
        return self.space.size(self.data.input_shape)


def prepare(config: SearchConfig) -> Prepared:
    """Load the data onto the device and fix what the study must keep constant."""
    space = get_space(config.space)
    dataset, note = (config.dataset, "") if config.dataset else default_dataset(config.data_dir)
    full = load_dataset_cached(dataset, data_dir=config.data_dir, image_size=config.image_size, color=config.color)
    space.check_feasible(full.input_shape)
    _check_limits_reachable(config, space, full)
    latency_source = _latency_source(config, space, full)
    limited = limit_train(full, config.train_limit, config.seed)
    device = resolve_device(config.device)
    _check_memory(space, limited, batch_size=config.batch_size * config.jobs, device=device)
    data = to_device(limited, device, val_fraction=config.val_fraction, seed=config.seed)
    train = TrainConfig(
        epochs=config.epochs,
        batch_size=config.batch_size,
        optimizer=config.optimizer,
        schedule=config.schedule,
        label_smoothing=config.label_smoothing,
        augment=config.augment,
        seed=config.seed,
    )
    limits = Limits(max_macs=config.max_macs, max_params=config.max_params, max_latency_ms=config.max_latency_ms)
    rungs = schedule(config.early_stop, config.epochs, steps_per_epoch(len(data.train), config.batch_size))
    settings = SearchSettings(
        dataset=full.name,  # folder: and npz: paths made absolute
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
        # Without a rung (too few steps) nothing is ever stopped: recorded as off, so any value continues.
        early_stop=RULES[config.early_stop] if rungs else "off",
        latency=latency_source.setting,
    )
    study_name = config.study or slug(f"{space.name}-{full.name}")
    run_dir = RunDir(config.out or Path("runs") / slug(study_name))
    return Prepared(
        space=space,
        data=data,
        train=train,
        limits=limits,
        rungs=rungs,
        latency_source=latency_source,
        settings=settings,
        note=note,
        study_name=study_name,
        run_dir=run_dir,
        storage=StorageLocation.for_run(config.storage, run_dir),
    )


def open_run(config: SearchConfig, prepared: Prepared, *, worker: bool = False) -> tuple[optuna.Study, dict[str, Any]]:
    """The study (created or continued) and the run.json written for it.

    A worker of `--jobs` joins the study its parent opened and leaves run.json alone.
    """
    run_dir, location = prepared.run_dir, prepared.storage
    if not worker:
        check_run_dir(run_dir, prepared.study_name, location)
    with _folder_kept_only_on_success(run_dir.root):  # a storage that cannot be opened leaves no folder behind
        study = open_study(
            location,
            prepared.study_name,
            prepared.settings,
            sampler=config.sampler,
            seed=config.seed,
            run_dir=run_dir,
            shared=location.given or worker,  # each worker draws from its own seed stream
            # The space's cheapest candidate first: the front reaches the cheap end however the sampler explores.
            first_trials=tuple(
                prepared.space.first_params(
                    prepared.data.input_shape, prepared.data.num_classes, spread=FIRST_SPREAD, seed=config.seed
                )
            ),
            startup_pick=_startup_pick(prepared) if config.sampler in PICKED_STARTUP else None,
        )
        meta = (
            {}
            if worker
            else save_run_json(run_dir, study, location=location, extra=_run_facts(config, prepared.latency_source))
        )
    return study, meta


def _startup_pick(prepared: Prepared) -> SynflowStart:
    shape, classes = prepared.data.input_shape, prepared.data.num_classes
    return SynflowStart(prepared.space.random_draw(shape, classes), shape, prepared.limits)


def make_objective(config: SearchConfig, prepared: Prepared, observer: SearchObserver) -> CandidateObjective:
    return CandidateObjective(
        space=prepared.space,
        data=prepared.data,
        train_config=prepared.train,
        objectives=config.objectives,
        limits=prepared.limits,
        run_dir=prepared.run_dir,
        observer=observer,
        twins=Twins(ArchClaims(prepared.storage, prepared.study_name)),
        store=open_store(config.artifacts) if config.artifacts else None,
        rung_schedule=prepared.rungs,
        latency_source=prepared.latency_source,
        # Another runtime may refuse a candidate: found before it trains, not after.
        time_every_candidate="latency" in config.objectives
        or config.max_latency_ms is not None
        or prepared.latency_source.runtime != DEFAULT_RUNTIME,
    )


@contextlib.contextmanager
def _folder_kept_only_on_success(folder: Path) -> Iterator[None]:
    """Create `folder` (and its parents) for the block; remove what was created if the block fails."""
    missing = [folder, *folder.parents]
    missing = [path for path in missing if not path.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunError(f"cannot create run directory {folder}: {error.strerror}") from None
    try:
        yield
    except BaseException:
        if missing:
            shutil.rmtree(missing[-1], ignore_errors=True)  # the outermost folder this call made
        raise


def _latency_source(config: SearchConfig, space: SearchSpace, data: Dataset) -> LatencySource:
    """Timed here in --latency-runtime, or predicted by --latency-lut, whose table must cover the space."""
    if config.latency_lut is None:
        return LatencySource(runtime=config.latency_runtime, threads=config.latency_threads)
    table = load_table(config.latency_lut)
    check_covers(table, space, input_shape=data.input_shape, num_classes=data.num_classes)
    return LatencySource(runtime=table.runtime, table=table)


def _check_limits_reachable(config: SearchConfig, space: SearchSpace, data: Dataset) -> None:
    """Refuse a MACs or params limit that even the space's cheapest candidate is over: else every
    candidate is skipped, and the search ends after its attempts with an empty front."""
    bounds = space.cost_bounds(data.input_shape, data.num_classes)
    shape = "x".join(map(str, data.input_shape))
    for option, limit, least in (("--max-macs", config.max_macs, bounds.min_macs),
                                 ("--max-params", config.max_params, bounds.min_params)):  # fmt: skip
        if limit is not None and limit < least:
            raise SearchSpaceError(
                f"{option} {limit:,.0f} is below the cheapest candidate of {space_argument(space)} on {shape} input "
                f"({least:,}): raise it, or search a smaller space (dsdnas spaces lists their ranges)"
            )


def _check_memory(space: SearchSpace, data: Dataset, *, batch_size: int, device: torch.device) -> None:
    """Refuse, before training, a batch (or, on a GPU, a dataset) that cannot fit the device."""
    hint = "pass a smaller --batch-size or --image-size"
    # Activations and their gradients, float32; plus the input batch.
    batch = batch_size * (2 * space.activation_values(data.input_shape) + math.prod(data.input_shape)) * 4
    shape = "x".join(map(str, data.input_shape))
    require_memory(batch, device, what=f"training a batch of {batch_size} at {shape}", hint=hint)
    if device.type == "cuda":
        stored = data.x_train.numel() + data.x_test.numel()  # uint8
        require_memory(stored + batch, device, what=f"{data.name} on {device} with one batch", hint=hint)


def _run_facts(config: SearchConfig, latency: LatencySource) -> dict[str, Any]:
    """What run.json records beside the study's settings: this invocation's budget and machine, and the
    latency table's target and measured error when latencies are predicted (export states them)."""
    device = resolve_device(config.device)
    table = latency.table
    return {
        "latency_table": None
        if table is None
        else {
            "file": str(Path(table.source).resolve()),
            "label": table.label,
            "machine": table.machine,
            "calibration": table.calibration,
            "check": {key: value for key, value in table.check.items() if key != "rows"},
        },
        "budget": str(config.budget),
        "jobs": config.jobs,
        "latency_runtime": latency.runtime,
        "latency_threads": latency.threads,  # None: every core (a table's figures: its own threads)
        "artifacts": config.artifacts,
        "device": str(device),
        "torch": torch.__version__,
        "dsdnas": __version__,
        "machine": machine_info(device),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
