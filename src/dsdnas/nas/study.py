"""The multi-objective search: storage, sampler, budget and recovery of lost trials.

A search is an Optuna study in SQLite inside the run directory (or any storage URL).
Re-running the same command continues it: the budget counts finished trials in the
study, so only the rest are run. A trial left RUNNING by a killed worker is marked FAIL
and its candidate retried: at once when the worker was a dead process on this machine,
else through Optuna's heartbeat once its grace period passes.
"""

from __future__ import annotations

import json
import math
import os
import socket
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from dsdnas.errors import DsdnasError, RunError
from dsdnas.nas.budget import Budget
from dsdnas.nas.claim import ClaimLock
from dsdnas.nas.events import SearchObserver
from dsdnas.nas.objective import OBJECTIVE_DIRECTIONS, CandidateFailed, CandidateObjective
from dsdnas.nas.results import finished_count, pareto_rows, trial_row, write_results
from dsdnas.nas.rundir import RunDir, write_json

HEARTBEAT_S = 10  # a running trial proves it is alive this often
GRACE_S = 60  # a RUNNING trial silent this long on another machine is taken as dead
SAMPLERS = ("tpe", "nsga2", "random")
COUNTED_STATUSES = ("trained", "reused")  # what counts towards --budget N
CLAIM_LOCK = "claim.lock"  # in the run directory; see nas/claim.py
WAIT_S = 1.0  # how often a worker with no trial left to start looks again


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

    def to_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self)))


@dataclass
class SearchResult:
    """What `run_search` returns: the study, its run directory and why it stopped."""

    study: optuna.Study
    run_dir: Path
    stop_reason: str
    front: list[dict[str, Any]] = field(default_factory=list)


def check_objectives(objectives: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [name for name in objectives if name not in OBJECTIVE_DIRECTIONS]
    if unknown or not objectives:
        raise DsdnasError(f"--objectives {','.join(objectives)}: use names from {', '.join(OBJECTIVE_DIRECTIONS)}")
    if "accuracy" not in objectives or len(set(objectives)) != len(objectives) or len(objectives) < 2:
        raise DsdnasError("--objectives must list accuracy and at least one cost (macs, params, latency), once each")
    return ("accuracy", *(name for name in objectives if name != "accuracy"))  # accuracy first, always


def make_sampler(name: str, seed: int, existing_trials: int, salt: int = 0) -> optuna.samplers.BaseSampler:
    """Seeded sampler; the seed moves on with the study so a resumed run draws anew.

    `salt` separates workers that share one storage and start together.
    """
    seed = (seed + existing_trials + salt) % 2**32
    if name == "tpe":
        # Multivariate TPE models the joint choices; constant_liar spreads parallel workers.
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=10, constant_liar=True)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=20)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise DsdnasError(f"--sampler {name!r} is not one of {', '.join(SAMPLERS)}")


def _retry_callback() -> RetryHeartbeatStaleTrialCallback:
    """Re-enqueue a lost trial's parameters, so its candidate is trained again."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return RetryHeartbeatStaleTrialCallback(max_retry=3)


def open_storage(url: str) -> optuna.storages.BaseStorage:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(
                url,
                heartbeat_interval=HEARTBEAT_S,
                grace_period=GRACE_S,
                heartbeat_stale_trial_callback=_retry_callback(),
            )
    except Exception as error:  # noqa: BLE001 - SQLAlchemy raises many kinds
        raise RunError(f"cannot open storage {url}: {error}") from None


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_dead_trials(study: optuna.Study) -> list[int]:
    """Fail RUNNING trials whose worker was a now-dead process on this host; retry them."""
    host = socket.gethostname()
    recovered = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker_host, _, pid = str(trial.user_attrs.get("worker", "")).rpartition(":")
        if worker_host != host or not pid.isdigit() or _process_alive(int(pid)):
            continue
        if study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL):
            _retry_callback()(study, study._storage.get_trial(trial._trial_id))
            recovered.append(trial.number)
    return recovered


def open_study(
    storage_url: str, study_name: str, settings: SearchSettings, sampler: str, seed: int, shared: bool = False
) -> optuna.Study:
    """Create the study, or load it and check that its settings match these."""
    storage = open_storage(storage_url)
    directions = [OBJECTIVE_DIRECTIONS[name] for name in settings.objectives]
    try:
        existing = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        existing = None
    if existing is not None:
        stored = existing.user_attrs.get("settings")
        wanted = settings.to_json()
        changed = [] if stored is None else sorted(key for key in wanted if not _same(stored.get(key), wanted[key]))
        if changed:
            raise RunError(
                f"study {study_name!r} in {storage_url} was run with other settings ({', '.join(changed)}); "
                f"repeat its options or pass --study NEW_NAME / --out NEW_DIR"
            )
    count = len(existing.trials) if existing is not None else 0
    study = optuna.create_study(
        study_name=study_name,
        storage=storage,
        directions=directions,
        sampler=make_sampler(sampler, seed, count, salt=os.getpid() if shared else 0),
        load_if_exists=True,
    )
    if existing is None or "settings" not in existing.user_attrs:
        study.set_user_attr("settings", settings.to_json())
        study.set_user_attr("sampler", sampler)
        study.set_user_attr("seed", seed)
        study.set_user_attr("created", time.strftime("%Y-%m-%dT%H:%M:%S"))
    return study


def _same(stored: Any, wanted: Any) -> bool:
    """Settings equality, with floats equal to 1e-9 (older versions summed in float64)."""
    if isinstance(stored, float) and isinstance(wanted, float):
        return math.isclose(stored, wanted, rel_tol=1e-9)
    if isinstance(stored, list) and isinstance(wanted, list):
        return len(stored) == len(wanted) and all(_same(a, b) for a, b in zip(stored, wanted, strict=True))
    if isinstance(stored, dict) and isinstance(wanted, dict):
        return stored.keys() == wanted.keys() and all(_same(stored[key], wanted[key]) for key in stored)
    return stored == wanted


def run_search(
    study: optuna.Study,
    objective: CandidateObjective,
    run_dir: RunDir,
    budget: Budget,
    observer: SearchObserver | None = None,
    space_size: int | None = None,
    note: str = "",
    started: float | None = None,
) -> SearchResult:
    """Run trials until the budget is met; write results after every trial.

    `started` is the time.monotonic() at which the invocation began; a time budget
    counts from there. A trial budget counts the running trials of other workers too:
    while they could still fill it, this worker waits instead of starting another.
    """
    observer = observer or objective.observer
    recovered = recover_dead_trials(study)
    if recovered:
        note = "; ".join(filter(None, [note, f"retrying trial(s) {recovered} left RUNNING by a killed run"]))
    started = time.monotonic() if started is None else started
    observer.search_started(finished_count(study, COUNTED_STATUSES), budget.trials, budget.seconds, note)
    claim = ClaimLock(run_dir.root / CLAIM_LOCK)
    reported = {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
    attempts = 0
    max_attempts = 10 * (budget.trials or 100) + 50  # skipped and failed trials included
    waited = False
    while True:
        reason = _stop_reason(study, budget, started, space_size, attempts, max_attempts)
        if reason is not None:
            break
        claim.acquire()
        try:
            done, running = finished_count(study, COUNTED_STATUSES), _running_count(study)
            room = budget.trials is None or done + running < budget.trials
            if room:
                attempts += 1
                objective_once = _releasing(objective, claim)
                study.optimize(objective_once, n_trials=1, catch=(CandidateFailed,), gc_after_trial=False)
        finally:
            claim.release()
        if not room:
            # Other workers' running trials may still fill the budget, or fail and leave room.
            if not waited:
                observer.waiting(running, done)
                waited = True
            time.sleep(WAIT_S)
            recover_dead_trials(study)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(study)  # workers elsewhere: heartbeat grace
        _report_new_trials(study, run_dir, observer, reported)
    front = write_results(study, run_dir, final=True)
    observer.search_finished(reason)
    return SearchResult(study, run_dir.root, reason, front or pareto_rows(study))


def _stop_reason(
    study: optuna.Study, budget: Budget, started: float, space_size: int | None, attempts: int, max_attempts: int
) -> str | None:
    done = finished_count(study, COUNTED_STATUSES)
    if budget.trials is not None and done >= budget.trials:
        return f"budget met: {done} finished trials (budget {budget.trials})"
    if budget.seconds is not None and time.monotonic() - started >= budget.seconds:
        return f"time budget of {budget.seconds:g} s used; {done} finished trials"
    if space_size is not None and _distinct_archs(study) >= space_size:
        return f"every one of the space's {space_size} architectures has been evaluated"
    if attempts >= max_attempts:
        return f"stopped after {attempts} attempts: limits or failures rejected too many candidates"
    return None


def _report_new_trials(study: optuna.Study, run_dir: RunDir, observer: SearchObserver, reported: set[int]) -> None:
    """Write results and tell the observer of each trial finished since the last call, by any worker."""
    new = [t for t in study.get_trials(deepcopy=False) if t.state.is_finished() and t.number not in reported]
    if not new:
        return
    front = write_results(study, run_dir)
    on_front = {row["trial"] for row in front}
    finished = finished_count(study, COUNTED_STATUSES)
    for trial in new:
        reported.add(trial.number)
        observer.trial_finished(trial.number, trial_row(trial, on_front), front, finished)


def _running_count(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))


def _releasing(objective: CandidateObjective, claim: ClaimLock) -> Callable[[optuna.Trial], list[float]]:
    """The objective, releasing the claim once Optuna has created (and numbered) the trial."""

    def run(trial: optuna.Trial) -> list[float]:
        claim.release()
        return objective(trial)

    return run


def _distinct_archs(study: optuna.Study) -> int:
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return len({t.user_attrs.get("arch_hash") for t in trials})


def save_run_json(run_dir: RunDir, study: optuna.Study, storage_url: str | None, extra: dict[str, Any]) -> None:
    """run.json: where the study lives (None: study.db here) and how the run was set up."""
    data = {"study": study.study_name, "storage": storage_url, **study.user_attrs, **extra}
    write_json(run_dir.run_json, data)
