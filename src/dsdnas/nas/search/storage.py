"""Opening an Optuna storage, writing a trial's record and choices in one commit each, and saying in one
line what went wrong with one.

Optuna commits every user attribute and every choice of a trial on its own; a candidate has
about 40 of the one and 10-20 of the other, and on SQLite each commit cost 1.4-5 ms on this project's VMs.

Messages never show the SQL, SQLAlchemy's background links or a password. Where the
storage is comes in as a `StorageLocation` (`location.py`), which alone reads the URL.
"""

from __future__ import annotations

import json
import sqlite3
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, check_distribution_compatibility, distribution_to_json
from optuna.storages import RDBStorage
from optuna.storages._rdb import models as rdb_models  # Optuna's own tables, for one transaction of many keys
from optuna.storages._rdb.storage import _create_scoped_session
from sqlalchemy.dialects import postgresql, sqlite

from dsdnas.errors import ResourceError, StorageError, disk_full_message
from dsdnas.nas.search.location import StorageLocation


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


def storage_failure(error: BaseException, location: StorageLocation) -> StorageError | ResourceError | None:
    """One line for an error that came from the storage (SQLAlchemy or its driver), else None."""
    if not any(type(link).__module__.startswith("sqlalchemy") for link in _chain(error)):
        return None
    first = _first_line(error)
    if "disk is full" in first or "No space left" in first:
        return ResourceError(disk_full_message(location.sqlite_file or location.label))
    return StorageError(f"storage {location.label} failed: {first}")


def open_storage(
    location: StorageLocation, *, read_only: bool = False, heartbeat: dict[str, Any] | None = None
) -> optuna.storages.BaseStorage:
    """The storage at `location`; `read_only` neither creates a file nor writes Optuna's tables.

    `heartbeat` holds RDBStorage's heartbeat options, for a storage whose trials run here
    (see `workers.heartbeat_options`); a command that only reads a study needs none.
    """
    path = location.sqlite_file
    if read_only and path is not None and (not path.exists() or path.stat().st_size == 0):
        raise StorageError(f"{path} is {'empty' if path.exists() else 'missing'}: this run's study is not there")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(location.url, skip_table_creation=read_only, **(heartbeat or {}))
    except Exception as error:  # noqa: BLE001 - SQLAlchemy and the drivers raise many kinds
        raise cannot_open(error, location) from None


# Dialects whose INSERT ... ON CONFLICT DO UPDATE takes many rows (SQLite from 3.24, as Optuna's check).
_UPSERTS = {"postgresql": postgresql.insert}
if sqlite3.sqlite_version_info >= (3, 24, 0):
    _UPSERTS["sqlite"] = sqlite.insert


def write_user_attrs(storage: optuna.storages.BaseStorage, trial_id: int, attrs: dict[str, Any]) -> None:
    """Store `attrs` on a trial: in one transaction on a database, one by one on any other storage.

    Optuna commits each `set_trial_user_attr` on its own, and even in one transaction each
    key costs it a look-up of the trial and a statement of its own: 35 ms for 40 keys on
    SQLite here, where one multi-row upsert after one look-up takes 5 ms (SQLite, PostgreSQL).
    """
    backend = _database(storage)
    if backend is None:
        for key, value in attrs.items():
            storage.set_trial_user_attr(trial_id, key, value)
        return
    if not attrs:
        return
    # As Optuna's own writes: another writer's insert of the same key is not an error.
    with _create_scoped_session(backend.scoped_session, ignore_integrity_error=True) as session:
        insert = _UPSERTS.get(backend.engine.name)
        if insert is None:  # MySQL and the rest: Optuna's own statement, key by key
            model = rdb_models.TrialUserAttributeModel
            for key, value in attrs.items():
                backend._set_trial_attr_without_commit(session, model, trial_id, key, value)
            return
        _check_updatable(backend, session, trial_id)
        session.execute(_upsert(insert, trial_id, attrs))


def _database(storage: optuna.storages.BaseStorage) -> RDBStorage | None:
    """The database under `storage` (itself, or under Optuna's cache wrapper); None for any other storage."""
    backend = getattr(storage, "_backend", storage)
    return backend if isinstance(backend, RDBStorage) else None


def _check_updatable(backend: RDBStorage, session: Any, trial_id: int) -> None:
    """The trial looked up once, and checked as Optuna checks it: a finished trial is not written."""
    trial = rdb_models.TrialModel.find_or_raise_by_id(trial_id, session)
    backend.check_trial_is_updatable(trial_id, trial.state)


def _upsert(insert: Any, trial_id: int, attrs: dict[str, Any]) -> Any:
    """One statement writing every key of `attrs`, replacing a key another writer inserted first."""
    table = rdb_models.TrialUserAttributeModel
    rows = [{"trial_id": trial_id, "key": key, "value_json": json.dumps(value)} for key, value in attrs.items()]
    statement = insert(table).values(rows)
    return statement.on_conflict_do_update(
        index_elements=[table.trial_id, table.key], set_={"value_json": statement.excluded.value_json}
    )


def set_user_attrs(trial: optuna.Trial, attrs: dict[str, Any]) -> None:
    """`write_user_attrs` through a running trial, which keeps its own copy of them."""
    write_user_attrs(trial.storage, trial._trial_id, attrs)
    trial._cached_frozen_trial.user_attrs.update(attrs)  # what Trial.set_user_attr keeps for itself


# A parameter as Optuna's storage takes it: its name, its value in Optuna's internal form, its distribution.
Param = tuple[str, float, BaseDistribution]


class _ParamsKept:
    """A trial's storage while it draws its choices: each parameter kept, every other call passed on."""

    def __init__(self, storage: optuna.storages.BaseStorage) -> None:
        self.storage = storage
        self.params: list[Param] = []

    def set_trial_param(self, trial_id: int, name: str, value: float, distribution: BaseDistribution) -> None:
        self.params.append((name, value, distribution))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.storage, name)


@contextmanager
def choices_in_one_commit(trial: optuna.Trial) -> Iterator[None]:
    """While `trial` draws its choices (suggest_*), keep them, then write them all in one transaction.

    Optuna commits each choice on its own: 14 categorical choices took 19.6 ms on SQLite
    here, kept and written together 2.4 ms (2-core AMD EPYC VM, 2026-12-07; a commit costs
    about twice as much on the Intel Xeon kind), and a candidate of the default space
    makes 10 to 20. The trial keeps its own copy of each choice as it is made, and the
    sampler reads the study, not this trial's storage, so what is drawn is the same. A
    drawing that raises writes none of them: a trial's choices are stored whole or not at all.
    """
    kept = _ParamsKept(trial.storage)
    trial.storage = kept  # Trial._suggest writes each choice through trial.storage
    try:
        yield
    finally:
        trial.storage = kept.storage
    write_params(trial.storage, trial._trial_id, kept.params)


def write_params(storage: optuna.storages.BaseStorage, trial_id: int, params: list[Param]) -> None:
    """Store a trial's parameters: in one transaction on a database, one by one on any other storage.

    Each is checked as Optuna checks it: against the distribution the study first stored
    under its name (a choice whose options changed is refused with Optuna's ValueError).
    """
    backend = _database(storage)
    if backend is None:
        for name, value, distribution in params:
            storage.set_trial_param(trial_id, name, value, distribution)
        return
    if not params:
        return
    known = _known_distributions(storage, trial_id)
    # A row already there would be a choice made twice (Optuna's Trial never does): raise, where Optuna's own
    # ignore_integrity_error=True would roll back every choice of the trial and say nothing.
    with _create_scoped_session(backend.scoped_session, ignore_integrity_error=False) as session:
        _check_updatable(backend, session, trial_id)
        for name, value, distribution in params:
            if name not in known:  # Optuna's own statement, which looks the study's first one up
                backend._set_trial_param_without_commit(session, trial_id, name, value, distribution)
                continue
            check_distribution_compatibility(known[name], distribution)
            session.add(
                rdb_models.TrialParamModel(
                    trial_id=trial_id,
                    param_name=name,
                    param_value=value,
                    distribution_json=distribution_to_json(distribution),
                )
            )
    for name, _, distribution in params:
        known.setdefault(name, distribution)


def _known_distributions(storage: optuna.storages.BaseStorage, trial_id: int) -> dict[str, BaseDistribution]:
    """The distributions Optuna's cache wrapper has stored for the trial's study, by name; kept up to date by both."""
    try:
        study_id, _ = storage._trial_id_to_study_id_and_number[trial_id]  # type: ignore[attr-defined]
        return storage._studies[study_id].param_distribution  # type: ignore[attr-defined]
    except (AttributeError, KeyError):  # no cache, or one that does not know the trial: ask the database
        return {}


def cannot_open(error: BaseException, location: StorageLocation) -> StorageError:
    """The one-line error for a storage that could not be opened (or locked to be opened)."""
    return StorageError(f"cannot open storage {location.label}: {_open_failure(error, location)}")


# URL scheme -> what to install for its driver. SQLAlchemy 2.1 maps postgresql:// to psycopg 3.
DRIVERS = {
    "postgresql": "pip install 'dsdnas[postgres]' (psycopg 3)",
    "postgresql+psycopg": "pip install 'dsdnas[postgres]' (psycopg 3)",
    "postgresql+psycopg2": "pip install psycopg2-binary",
    "mysql": "pip install mysqlclient",
    "mysql+mysqldb": "pip install mysqlclient",
    "mysql+pymysql": "pip install PyMySQL",
}


def _open_failure(error: BaseException, location: StorageLocation) -> str:
    """What went wrong opening a storage: a missing driver or an unknown kind named as such."""
    scheme = location.scheme
    text = " ".join(str(link) for link in _chain(error))
    if "Failed to import DB access module" in text or any(isinstance(e, ImportError) for e in _chain(error)):
        install = DRIVERS.get(scheme, f"install the database driver SQLAlchemy uses for {scheme}://")
        return f"no database driver for {scheme}:// is installed; {install}"
    if "Can't load plugin" in text:
        return f"unknown storage kind {scheme}://; use sqlite:///PATH or postgresql://user:password@host/db"
    return _first_line(error)
