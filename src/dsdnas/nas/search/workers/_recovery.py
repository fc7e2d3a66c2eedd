"""Trials that dead workers left behind: finished from their files, or failed and retried.

A worker killed after it wrote a trained trial's files but before the study heard of it
(kill -9, a full disk under the database) leaves a RUNNING trial whose files are
complete. Such a trial is completed from its metrics.json once its weights match the
recorded hash; it is never left orphaned. A candidate stopped at a rung has no weights: its
metrics.json alone finishes it, as the stopped (PRUNED) trial it was, since it was
evaluated and the budget counts it. So does a reused one's, which copied a trained twin's
result and has no weights of its own. Any other dead trial is marked FAIL, with the
reason, and its candidate retried: at once when the worker was a process on this
machine, else through Optuna's heartbeat once its grace period passes. A status its
record claimed before the kill is shown only where the state holds it
(`TrialRecord.outcome`). A trial whose worker died before naming itself is failed too
(`fail_orphaned_trials`).
"""

from __future__ import annotations

import datetime
import os
import shutil
from dataclasses import fields, replace
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from dsdnas.errors import RunError
from dsdnas.nas.files import file_sha256, read_json
from dsdnas.nas.hardware import hostname
from dsdnas.nas.runs.rundir import METRICS_FILE, WEIGHTS_FILE, RunDir
from dsdnas.nas.search.records import Status, TrialRecord, objective_names
from dsdnas.nas.search.storage import write_user_attrs
from dsdnas.nas.search.workers._heartbeat import GRACE_S, retry_callback


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dead_here(record: TrialRecord) -> bool:
    host, _, pid = record.worker.rpartition(":")
    return host == hostname() and pid.isdigit() and not _process_alive(int(pid))


def finished_from_files(record: TrialRecord, run_dir: RunDir) -> TrialRecord | None:
    """The trained, reused or stopped trial its complete files describe, or None when they are missing,
    partial or altered: a trained one needs its weights, matching the recorded hash; the others have none
    (a reused one names its twin)."""
    folder = Path(record.folder) if record.folder else run_dir.trial_dir(record.number)
    try:
        metrics = read_json(folder / METRICS_FILE)
    except RunError:
        return None
    status = metrics.get("status")
    if status not in (Status.TRAINED, Status.REUSED, Status.STOPPED) or metrics.get("arch_hash") != record.arch_hash:
        return None
    if status == Status.REUSED and not isinstance(metrics.get("reused_from"), int):
        return None
    weights, sha256 = folder / WEIGHTS_FILE, metrics.get("weights_sha256")
    if status == Status.TRAINED and (not sha256 or not weights.exists() or file_sha256(weights) != sha256):
        return None
    known = {f.name for f in fields(TrialRecord)} - {"number", "state", "values"}
    stored = {key: value for key, value in metrics.items() if key in known}
    return TrialRecord(number=record.number, **{**stored, "status": Status(status), "arch": record.arch})


def _complete(study: optuna.Study, trial: FrozenTrial, finished: TrialRecord) -> bool:
    """Store the record and finish the trial, COMPLETE or (stopped) PRUNED; False when another worker got
    there first."""
    storage = study._storage  # a dead worker's trial: no Trial object of ours to write through
    try:
        write_user_attrs(storage, trial._trial_id, finished.attrs())  # one commit
        if finished.status is Status.STOPPED:
            return storage.set_trial_state_values(trial._trial_id, TrialState.PRUNED)
        values = finished.objective_values(objective_names(study))
        return storage.set_trial_state_values(trial._trial_id, TrialState.COMPLETE, values)
    except optuna.exceptions.UpdateFinishedTrialError:
        return False


def _fail_and_retry(study: optuna.Study, trial: FrozenTrial, reason: str, *, retry: bool = True) -> bool:
    storage = study._storage
    try:
        storage.set_trial_user_attr(trial._trial_id, "reason", reason)
        # The storage's compare-and-set: only one of several recovering workers wins.
        if not storage.set_trial_state_values(trial._trial_id, TrialState.FAIL):
            return False
    except optuna.exceptions.UpdateFinishedTrialError:
        return False
    if retry:
        retry_callback()(study, storage.get_trial(trial._trial_id))
    return True


def recover_dead_trials(study: optuna.Study, run_dir: RunDir) -> tuple[list[int], list[int], list[int]]:
    """RUNNING trials of dead processes on this machine: (completed from files, recorded as stopped from files,
    failed and retried)."""
    completed, stopped, retried = [], [], []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        record = TrialRecord.from_trial(trial)
        if not _dead_here(record):
            continue
        finished = finished_from_files(record, run_dir)
        if finished is not None and _complete(study, trial, finished):
            (stopped if finished.status is Status.STOPPED else completed).append(trial.number)
        elif finished is None and _fail_and_retry(study, trial, f"worker {record.worker} died (process gone)"):
            retried.append(trial.number)
    return completed, stopped, retried


def fail_orphaned_trials(study: optuna.Study, *, lock_shared: bool) -> list[int]:
    """RUNNING trials that never named their worker: its process died between creating the trial and naming itself.

    Call it holding the claim lock. A worker names itself on a new trial before it releases
    that lock, so when every worker takes the same lock, an unnamed trial seen by its holder
    is orphaned: no heartbeat or process check would ever end it, and it would hold a place
    in the budget for good. Under a lock that is not shared (a database other than SQLite or
    PostgreSQL), the trial must also be older than the heartbeat grace period. A trial that
    had drawn no candidate leaves nothing to retry; one enqueued with its parameters (the
    study's first candidates) is retried.
    """
    now = datetime.datetime.now()
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if TrialRecord.from_trial(trial).worker:
            continue
        age_s = (now - (trial.datetime_start or now)).total_seconds()
        if not lock_shared and age_s < GRACE_S:
            continue
        reason = "its worker died as it created the trial, before naming itself on it"
        if _fail_and_retry(study, trial, reason, retry=bool(trial.params or trial.system_attrs.get("fixed_params"))):
            failed.append(trial.number)
    return failed


def adopt_failed_trials(study: optuna.Study, run_dir: RunDir) -> list[int]:
    """FAIL trials whose files are nonetheless complete (the study write failed, the files did not).

    Optuna cannot finish a trial twice, so each is carried on by a new COMPLETE trial with
    the same parameters and results (`adopted_from`), and its files move to that trial's
    folder. A crash in between is finished the next time: the move is redone.
    """
    adopters = {
        r.adopted_from: r.number for r in map(TrialRecord.from_trial, study.trials) if r.adopted_from is not None
    }
    adopted = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
        record = TrialRecord.from_trial(trial)
        if not _dead_or_ours(record) or not (run_dir.trial_dir(trial.number) / WEIGHTS_FILE).exists():
            continue
        finished = finished_from_files(replace(record, folder=""), run_dir)
        if finished is None:
            continue
        if trial.number not in adopters:
            study.add_trial(
                optuna.trial.create_trial(
                    params=trial.params,
                    distributions=trial.distributions,
                    values=finished.objective_values(objective_names(study)),
                    user_attrs=replace(finished, folder="", adopted_from=trial.number).attrs(),
                    system_attrs=trial.system_attrs,
                )
            )
            adopters = {
                r.adopted_from: r.number
                for r in map(TrialRecord.from_trial, study.trials)
                if r.adopted_from is not None
            }
        target = run_dir.trial_dir(adopters[trial.number])
        shutil.rmtree(target, ignore_errors=True)  # at most an arch.json of a trial that never ran here
        shutil.move(run_dir.trial_dir(trial.number), target)
        adopted.append(trial.number)
    return adopted


def _dead_or_ours(record: TrialRecord) -> bool:
    """The trial's worker is gone, or is this very process: its FAIL is final."""
    host, _, pid = record.worker.rpartition(":")
    return host == hostname() and pid.isdigit() and (int(pid) == os.getpid() or not _process_alive(int(pid)))


def fail_stale_trials(study: optuna.Study) -> list[int]:
    """Workers on other machines: fail, with the reason, trials whose heartbeat stopped for the grace period.

    What optuna.storages.fail_stale_trials does, but each trial first records why it
    failed ("worker m2:13920 stopped sending heartbeats"); it is then retried.
    """
    storage = study._storage  # the stale-trial query is the storage's own, not public
    if not hasattr(storage, "_get_stale_trial_ids") or storage.get_heartbeat_interval() is None:
        return []
    failed = []
    for trial_id in storage._get_stale_trial_ids(study._study_id):
        trial = storage.get_trial(trial_id)
        worker = TrialRecord.from_trial(trial).worker or "?"
        reason = f"worker {worker} stopped sending heartbeats (none for {GRACE_S} s)"
        if _fail_and_retry(study, trial, reason):
            failed.append(trial.number)
    return failed
