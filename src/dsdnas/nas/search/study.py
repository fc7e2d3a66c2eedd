"""The study: its settings and storage, created once and continued after.

A search is an Optuna study in SQLite inside the run directory (or any storage URL).
Re-running the same command continues it; rerunning with other settings is refused
with the differing setting named, because a study must compare like with like.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any

import optuna

from dsdnas.errors import DsdnasError, RunError
from dsdnas.nas.files import write_json
from dsdnas.nas.runs.rundir import RunDir
from dsdnas.nas.search.location import StorageLocation
from dsdnas.nas.search.records import OBJECTIVE_DIRECTIONS
from dsdnas.nas.search.rungs import RULES
from dsdnas.nas.search.samplers import StartupPick, make_sampler
from dsdnas.nas.search.storage import cannot_open, open_storage
from dsdnas.nas.search.workers import (
    check_files_match,
    check_new_study,
    create_claims_table,
    heartbeat_options,
    tables_locked,
)


@dataclass(frozen=True)
class SearchSettings:
    """Everything that must stay the same for a study to be continued."""

    dataset: str
    space: str
    space_choices: dict[str, Any]
    objectives: tuple[str, ...]
    train: dict[str, Any]
    val_fraction: float
    train_limit: int | None
    seed: int  # carves the validation split, so it must not change within a study
    limits: dict[str, float | None]
    input_shape: tuple[int, int, int]
    class_names: list[str]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    image_size: int | None = None  # how folder: images were resized
    color: str = "auto"
    early_stop: str = "off"  # rungs.RULES: judged at rungs in steps or at whole epochs, or all trained (off)
    latency: str = "torch"  # LatencySource.setting: the runtime, or the table's target

    def to_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self)))


def check_objectives(objectives: tuple[str, ...]) -> tuple[str, ...]:
    """Accuracy first, then the costs, each once; errors name the bad value."""
    unknown = [name for name in objectives if name not in OBJECTIVE_DIRECTIONS]
    if unknown or not objectives:
        raise DsdnasError(f"--objectives {','.join(objectives)}: use names from {', '.join(OBJECTIVE_DIRECTIONS)}")
    if "accuracy" not in objectives or len(set(objectives)) != len(objectives) or len(objectives) < 2:
        raise DsdnasError("--objectives must list accuracy and at least one cost (macs, params, latency), once each")
    return ("accuracy", *(name for name in objectives if name != "accuracy"))


def open_study(
    location: StorageLocation,
    study_name: str,
    settings: SearchSettings,
    *,
    sampler: str,
    seed: int,
    run_dir: RunDir,
    shared: bool = False,
    first_trials: tuple[dict[str, Any], ...] = (),
    startup_pick: StartupPick | None = None,
) -> optuna.Study:
    """Create the study, or load it and check that its settings and the run's files match it.

    A new study is given `first_trials` (parameters) to try before the sampler's own picks;
    `startup_pick` picks the sampler's start-up candidates (`make_sampler`).
    Workers starting together take turns under the tables lock (see `workers`): one creates
    the tables and the study, the others find them.
    """
    sqlite_file = location.sqlite_file
    if sqlite_file is not None and (not sqlite_file.exists() or sqlite_file.stat().st_size == 0):
        check_new_study(run_dir, study_name, location)  # before opening it writes Optuna's tables into the file
    with tables_locked(location):
        storage = open_storage(location, heartbeat=heartbeat_options())
        try:
            create_claims_table(location)
        except Exception as error:  # noqa: BLE001 - SQLAlchemy and the drivers raise many kinds
            raise cannot_open(error, location) from None
        try:
            existing = optuna.load_study(study_name=study_name, storage=storage)
        except KeyError:
            existing = None
        if existing is None:
            check_new_study(run_dir, study_name, location)
        else:
            _check_same_settings(existing, settings, location)
            check_files_match(run_dir, existing)
        study = optuna.create_study(
            study_name=study_name,
            storage=storage,
            directions=[OBJECTIVE_DIRECTIONS[name] for name in settings.objectives],
            sampler=make_sampler(
                sampler,
                seed=seed,
                existing_trials=len(existing.trials) if existing else 0,
                salt=os.getpid() if shared else 0,
                startup_pick=startup_pick,
            ),
            load_if_exists=True,
        )
        if study.metric_names is None:  # optuna-dashboard labels the objective values with these
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                study.set_metric_names(list(settings.objectives))
        if existing is None:
            for params in first_trials:
                study.enqueue_trial(params, skip_if_exists=True)
        if existing is None or "settings" not in existing.user_attrs:
            study.set_user_attr("settings", settings.to_json())
            study.set_user_attr("sampler", sampler)
            study.set_user_attr("seed", seed)
            study.set_user_attr("created", time.strftime("%Y-%m-%dT%H:%M:%S"))
        changes = sampler_changes(study.user_attrs, sampler, next_trial=len(existing.trials) if existing else 0)
        if changes is not None:  # a continued run may pick another sampler; the report says which trials had which
            study.set_user_attr("sampler_changes", changes)
        return study


def sampler_changes(attrs: dict[str, Any], sampler: str, next_trial: int) -> list[list[Any]] | None:
    """The samplers a study has run with, as [first trial, name] pairs, with `sampler` from `next_trial` on;
    None when `sampler` is the one in effect already."""
    changes = attrs.get("sampler_changes") or [[0, attrs.get("sampler", sampler)]]
    if changes[-1][1] == sampler:
        return None
    return [*changes, [next_trial, sampler]]


# Settings whose recorded values were renamed: before rungs in steps, "on" judged at whole epochs.
OLD_VALUES = {"early_stop": {"on": "epochs"}}


def _check_same_settings(study: optuna.Study, settings: SearchSettings, location: StorageLocation) -> None:
    stored = study.user_attrs.get("settings")
    if stored is None:
        return
    wanted = settings.to_json()
    stored = {key: OLD_VALUES[key].get(value, value) if key in OLD_VALUES else value for key, value in stored.items()}
    # A setting newer than the study (absent from it) matches when it has its default value.
    defaults = {f.name: f.default for f in fields(SearchSettings) if f.default is not MISSING}
    changed = sorted(
        name
        for key in wanted
        if not (key not in stored and wanted[key] == defaults.get(key))
        for name in _changed_names(key, stored.get(key), wanted[key])
    )
    if changed:
        ran_with = next((mode for mode, rule in RULES.items() if rule == stored.get("early_stop")), None)
        # A run from before --early-stop once was the default goes on only under the rule it began with.
        hint = f"; it ran with --early-stop {ran_with}" if "early_stop" in changed and ran_with else ""
        raise RunError(
            f"study {study.study_name!r} in {location.label} was run with other settings "
            f"({', '.join(changed)}){hint}; repeat its options, or pass --out NEW_DIR (and --study NEW_NAME with "
            f"a shared --storage)"
        )


def _changed_names(name: str, stored: Any, wanted: Any) -> list[str]:
    """The dotted names of what differs ("train.epochs", "limits.max_macs"), down through nested settings.

    More than three under one name (another space altogether) are given as that name.
    """
    if isinstance(stored, dict) and isinstance(wanted, dict):
        changed = [
            found
            for key in sorted(stored.keys() | wanted.keys())
            for found in _changed_names(f"{name}.{key}", stored.get(key), wanted.get(key))
        ]
        return [name] if len(changed) > 3 else changed
    return [] if _same(stored, wanted) else [name]


def _same(stored: Any, wanted: Any) -> bool:
    """Settings equality, with floats equal to 1e-9 (older versions summed in float64)."""
    if isinstance(stored, float) and isinstance(wanted, float):
        return math.isclose(stored, wanted, rel_tol=1e-9)
    if isinstance(stored, list) and isinstance(wanted, list):
        return len(stored) == len(wanted) and all(_same(a, b) for a, b in zip(stored, wanted, strict=True))
    if isinstance(stored, dict) and isinstance(wanted, dict):
        return stored.keys() == wanted.keys() and all(_same(stored[key], wanted[key]) for key in stored)
    return stored == wanted


def save_run_json(
    run_dir: RunDir, study: optuna.Study, *, location: StorageLocation, extra: dict[str, Any]
) -> dict[str, Any]:
    """run.json: where the study lives (None: study.db here, else the masked URL) and how the run was set up."""
    data = {"study": study.study_name, "storage": location.recorded, **study.user_attrs, **extra}
    write_json(run_dir.run_json, data)
    return data
