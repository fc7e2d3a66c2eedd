"""One worker at a time decides to start a trial: the budget check and the new trial.

A worker holds the study's claim lock from the moment it counts finished and running
trials until its new trial exists in the study, so workers never start more trials than
the budget leaves. Which lock depends on where the study lives:

- a run directory's own SQLite study: RUN/claim.lock (the same command in two terminals);
- a SQLite file given with --storage: a lock file beside it, shared by every run
  directory on this machine that uses it;
- PostgreSQL: an advisory lock in the server (pg_advisory_lock), shared by every machine;
  the server releases it if the worker dies;
- any other database: RUN/claim.lock, so workers on other machines could, in a race,
  pass the budget by one.

A worker names itself on its new trial before it lets the lock go, so a RUNNING trial
with no worker seen by a holder of a lock that every worker shares was left by a worker
that died holding it (see `recovery.fail_orphaned_trials`).

The tables lock makes creating a database's tables (Optuna's and dsdnas's) and a study
one worker's job at a time: workers that start together on a fresh database would
otherwise all see no table, all create it, and all but one fail (PostgreSQL's duplicate
key on pg_type, SQLite's "table already exists").
"""

from __future__ import annotations

import zlib
from pathlib import Path

import sqlalchemy

from dsdnas.nas.search.storage import sqlite_path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; workers there rely on the recount alone
    fcntl = None


class _Held:
    """`with lock:` holds it for the block."""

    shared = True  # every worker of the study takes this same lock

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class ClaimLock(_Held):
    """An exclusive advisory lock on a file; `release` may be called more than once."""

    def __init__(self, path: Path, *, shared: bool = True) -> None:
        self.path = path
        self.shared = shared and fcntl is not None
        self._handle = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(self.path, "a")  # noqa: SIM115 - held across calls, closed in release
        if fcntl is not None:
            fcntl.flock(self._handle, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._handle is None:
            return
        if fcntl is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()
        self._handle = None


class PostgresClaimLock(_Held):
    """pg_advisory_lock on a key made from `name`, held on a connection of its own."""

    def __init__(self, url: str, name: str) -> None:
        self.engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
        self.key = zlib.crc32(name.encode()) - 2**31  # a signed 32-bit advisory lock key
        self._connection = None

    def acquire(self) -> None:
        self._connection = self.engine.connect()
        self._connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": self.key})

    def release(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        finally:
            self._connection.close()
            self._connection = None


def claim_lock(storage_url: str, study: str, run_lock: Path) -> ClaimLock | PostgresClaimLock:
    """The lock every worker of this study takes (see the module docstring)."""
    if storage_url.startswith("postgresql"):
        return PostgresClaimLock(storage_url, f"dsdnas:{study}")
    database = sqlite_path(storage_url)
    if database is not None and database.resolve() != (run_lock.parent / "study.db").resolve():
        return ClaimLock(database.with_name(f"{database.name}.claim.lock"))
    return ClaimLock(run_lock, shared=database is not None)


def tables_lock(storage_url: str, run_lock: Path) -> ClaimLock | PostgresClaimLock:
    """The lock held while a worker creates the database's tables and opens its study.

    PostgreSQL: one advisory key for the whole database, since every study there shares the
    tables. SQLite: the claim lock, which is already one per database file.
    """
    if storage_url.startswith("postgresql"):
        return PostgresClaimLock(storage_url, "dsdnas:tables")
    return claim_lock(storage_url, "", run_lock)
