"""Optuna's heartbeat, as the study's workers run it: how often, how long a silence is death, and the retry.

A running trial proves it is alive every HEARTBEAT_S seconds; one silent for GRACE_S is
taken as dead (its worker on another machine crashed or lost the network) and its
candidate is retried. Tests shorten both through the environment.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import optuna
from optuna.storages import RetryHeartbeatStaleTrialCallback

HEARTBEAT_S = int(os.environ.get("DSDNAS_HEARTBEAT_S", "10"))
GRACE_S = int(os.environ.get("DSDNAS_GRACE_S", "60"))
MAX_RETRIES = 3  # times one candidate is retried after its workers died


def retry_callback() -> RetryHeartbeatStaleTrialCallback:
    """Re-enqueue a lost trial's parameters, so its candidate is trained again."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRIES)


def heartbeat_options() -> dict[str, Any]:
    """RDBStorage's heartbeat options for a storage whose trials this process runs."""
    return {
        "heartbeat_interval": HEARTBEAT_S,
        "grace_period": GRACE_S,
        "heartbeat_stale_trial_callback": retry_callback(),
    }
