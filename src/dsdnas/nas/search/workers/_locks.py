"""The two locks a study's workers share: the claim lock and the tables lock.

Which lock a storage has is the `StorageLocation`'s answer (`lock_file`, `lock_shared`);
this module only takes and releases them. See the package docstring for who holds them
and when.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy

from dsdnas.errors import StorageError
from dsdnas.nas.search.location import StorageLocation
from dsdnas.nas.search.storage import cannot_open

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


class FileLock(_Held):
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


class AdvisoryLock(_Held):
    """pg_advisory_lock on a key made from `name`, held on a connection of its own; the server
    releases it if the worker dies."""

    def __init__(self, location: StorageLocation, name: str) -> None:
        self.engine = sqlalchemy.create_engine(location.url, poolclass=sqlalchemy.pool.NullPool)
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


Lock = FileLock | AdvisoryLock


def claim_lock(location: StorageLocation, study: str) -> Lock:
    """The lock every worker of `study` takes to count the budget and start a trial."""
    if location.is_postgresql:
        return AdvisoryLock(location, f"dsdnas:{study}")
    return FileLock(location.lock_file, shared=location.lock_shared)


def tables_lock(location: StorageLocation) -> Lock:
    """The lock held while a worker creates the database's tables and opens its study.

    PostgreSQL: one advisory key for the whole database, since every study there shares the
    tables. SQLite: the claim lock, which is already one per database file.
    """
    if location.is_postgresql:
        return AdvisoryLock(location, "dsdnas:tables")
    return claim_lock(location, "")


@contextlib.contextmanager
def tables_locked(location: StorageLocation) -> Iterator[None]:
    """Hold the tables lock for the block; a lock that cannot be taken is a storage that cannot be opened."""
    database = location.sqlite_file
    if database is not None and not database.parent.is_dir():  # the lock beside it would create the folder
        raise StorageError(
            f"cannot open storage {location.label}: folder {database.parent} is missing; create it or give another path"
        )
    try:
        lock = tables_lock(location)
        lock.acquire()
    except Exception as error:  # noqa: BLE001 - SQLAlchemy and the drivers raise many kinds
        raise cannot_open(error, location) from None
    try:
        yield
    finally:
        lock.release()
