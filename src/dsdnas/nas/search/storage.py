"""Opening an Optuna storage, and failing the trials that dead workers left RUNNING.

A trial left RUNNING by a killed worker is marked FAIL and its candidate retried: at
once when the worker was a dead process on this machine, else through Optuna's
heartbeat once its grace period passes.
"""

from __future__ import annotations

import os
import socket
import warnings

import optuna
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from dsdnas.errors import RunError
from dsdnas.nas.search.records import TrialRecord

HEARTBEAT_S = 10  # a running trial proves it is alive this often
GRACE_S = 60  # a RUNNING trial silent this long on another machine is taken as dead


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
        worker_host, _, pid = TrialRecord.from_trial(trial).worker.rpartition(":")
        if worker_host != host or not pid.isdigit() or _process_alive(int(pid)):
            continue
        # The storage's compare-and-set: only one of several recovering workers wins.
        if study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL):
            _retry_callback()(study, study._storage.get_trial(trial._trial_id))
            recovered.append(trial.number)
    return recovered


def fail_stale_trials(study: optuna.Study) -> None:
    """Workers on other machines: fail trials whose heartbeat stopped longer than the grace."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
