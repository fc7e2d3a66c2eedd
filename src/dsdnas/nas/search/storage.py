"""Opening an Optuna storage, and saying in one line what went wrong with one.

Messages never show the SQL, SQLAlchemy's background links or a password.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import optuna
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

from dsdnas.errors import ResourceError, StorageError, disk_full_message

# A running trial proves it is alive every HEARTBEAT_S seconds; one silent for GRACE_S on
# another machine is taken as dead. Tests shorten both through the environment.
HEARTBEAT_S = int(os.environ.get("DSDNAS_HEARTBEAT_S", "10"))
GRACE_S = int(os.environ.get("DSDNAS_GRACE_S", "60"))


def retry_callback() -> RetryHeartbeatStaleTrialCallback:
    """Re-enqueue a lost trial's parameters, so its candidate is trained again."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return RetryHeartbeatStaleTrialCallback(max_retry=3)


def hide_password(url: str) -> str:
    """The URL with its password, if any, replaced by ***: safe for messages, logs and run.json."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def sqlite_path(url: str) -> Path | None:
    """The database file of a sqlite:/// URL; None for other storages."""
    return Path(url[len("sqlite:///") :]) if url.startswith("sqlite:///") else None


def _chain(error: BaseException | None) -> list[BaseException]:
    links: list[BaseException] = []
    while error is not None and error not in links:
        links.append(error)
        error = error.__cause__ or error.__context__
    return links


def _first_line(error: BaseException) -> str:
    """The first line of the database's own message: no SQL, no SQLAlchemy background link."""
    for link in _chain(error):
        if type(link).__module__.startswith("sqlalchemy"):
            error = getattr(link, "orig", None) or link
            break
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def storage_failure(error: BaseException, url: str) -> StorageError | ResourceError | None:
    """One line for an error that came from the storage (SQLAlchemy or its driver), else None."""
    if not any(type(link).__module__.startswith("sqlalchemy") for link in _chain(error)):
        return None
    first = _first_line(error)
    if "disk is full" in first or "No space left" in first:
        return ResourceError(disk_full_message(sqlite_path(url) or hide_password(url)))
    return StorageError(f"storage {hide_password(url)} failed: {first}")


def open_storage(url: str, *, read_only: bool = False) -> optuna.storages.BaseStorage:
    """The storage at `url`; `read_only` neither creates a file nor writes Optuna's tables."""
    path = sqlite_path(url)
    if read_only and path is not None and (not path.exists() or path.stat().st_size == 0):
        raise StorageError(f"{path} is {'empty' if path.exists() else 'missing'}: this run's study is not there")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(
                url,
                heartbeat_interval=HEARTBEAT_S,
                grace_period=GRACE_S,
                heartbeat_stale_trial_callback=retry_callback(),
                skip_table_creation=read_only,
            )
    except Exception as error:  # noqa: BLE001 - SQLAlchemy and the drivers raise many kinds
        raise cannot_open(error, url) from None


def cannot_open(error: BaseException, url: str) -> StorageError:
    """The one-line error for a storage that could not be opened (or locked to be opened)."""
    return StorageError(f"cannot open storage {hide_password(url)}: {_open_failure(error, url)}")


# URL scheme -> what to install for its driver. SQLAlchemy 2.1 maps postgresql:// to psycopg 3.
DRIVERS = {
    "postgresql": "pip install 'dsdnas[postgres]' (psycopg 3)",
    "postgresql+psycopg": "pip install 'dsdnas[postgres]' (psycopg 3)",
    "postgresql+psycopg2": "pip install psycopg2-binary",
    "mysql": "pip install mysqlclient",
    "mysql+mysqldb": "pip install mysqlclient",
    "mysql+pymysql": "pip install PyMySQL",
}


def _open_failure(error: BaseException, url: str) -> str:
    """What went wrong opening a storage: a missing driver or an unknown kind named as such."""
    scheme = url.split("://", 1)[0]
    text = " ".join(str(link) for link in _chain(error))
    if "Failed to import DB access module" in text or any(isinstance(e, ImportError) for e in _chain(error)):
        install = DRIVERS.get(scheme, f"install the database driver SQLAlchemy uses for {scheme}://")
        return f"no database driver for {scheme}:// is installed; {install}"
    if "Can't load plugin" in text:
        return f"unknown storage kind {scheme}://; use sqlite:///PATH or postgresql://user:password@host/db"
    return _first_line(error)
