"""Where a study lives: the --storage URL, resolved once into everything the rest needs.

A command makes one `StorageLocation` when it prepares its config (a search in
`api._prepare`, a command that reads a run in `api._runs.load_run`) and passes it on.
Nothing else looks inside a storage URL: which database kind it is, which SQLite file,
how it is shown without its password, which lock its workers share (the table in
`workers/__init__.py`) and whether workers on other machines can reach it are all
answered here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from dsdnas.nas.runs.rundir import CLAIM_LOCK, STUDY_DB, RunDir

_SQLITE = "sqlite:///"
MASK = "***"  # stands for a password in every message, log and file


def hide_password(url: str) -> str:
    """The URL with its password, if any, replaced by ***."""
    return re.sub(r"(://[^:/@]+):[^@]*@", rf"\1:{MASK}@", url)


@dataclass(frozen=True)
class StorageLocation:
    """One study's storage. `url` carries the password: use it to connect, never to show."""

    url: str = field(repr=False)  # never in a repr: it holds the password
    run_root: Path | None = None  # the run directory whose own files (claim.lock) this worker uses
    given: bool = True  # named with --storage (False: the run directory's study.db)

    def __repr__(self) -> str:
        return f"StorageLocation({self.label!r}, run_root={self.run_root!r}, given={self.given})"

    @classmethod
    def for_run(cls, storage: str | None, run_dir: RunDir) -> StorageLocation:
        """--storage as given, else RUN/study.db."""
        if storage:
            return cls(storage, run_dir.root, given=True)
        return cls(f"{_SQLITE}{(run_dir.root / STUDY_DB).resolve()}", run_dir.root, given=False)

    @property
    def scheme(self) -> str:
        """What comes before ://, driver included: sqlite, postgresql, postgresql+psycopg2, ..."""
        return self.url.split("://", 1)[0]

    @property
    def dialect(self) -> str:
        """The database kind: sqlite, postgresql, mysql, ..."""
        return self.scheme.split("+", 1)[0]

    @property
    def label(self) -> str:
        """The URL as every message, log and file shows it: the password masked."""
        return hide_password(self.url)

    @property
    def recorded(self) -> str | None:
        """What run.json keeps: None for the run directory's own study.db, else the masked URL."""
        return self.label if self.given else None

    @property
    def hides_password(self) -> bool:
        """A URL read back from run.json, whose password was masked: it cannot connect."""
        return MASK in self.url

    @property
    def sqlite_file(self) -> Path | None:
        """The database file of a sqlite:/// URL; None for a server."""
        return Path(self.url[len(_SQLITE) :]) if self.url.startswith(_SQLITE) else None

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == "postgresql"

    @property
    def on_a_server(self) -> bool:
        """Workers on other machines can share it (a database server, not a file)."""
        return self.sqlite_file is None

    @property
    def lock_file(self) -> Path | None:
        """The file whose advisory lock the study's workers take; None where the server holds the lock."""
        if self.is_postgresql:
            return None
        database = self.sqlite_file
        if database is not None and (self.run_root is None or database.resolve() != self._own_db):
            return database.with_name(f"{database.name}.{CLAIM_LOCK}")  # shared by every run using the file
        if self.run_root is None:
            raise ValueError(f"{self.label}: a lock on this storage needs a run directory")
        return self.run_root / CLAIM_LOCK

    @property
    def lock_shared(self) -> bool:
        """Every worker of the study takes the same lock: always, but for a server other than PostgreSQL,
        whose workers on other machines each take their own run directory's claim.lock."""
        return self.is_postgresql or self.sqlite_file is not None

    @property
    def connect_args(self) -> dict[str, int]:
        """What SQLAlchemy connects with: SQLite waits up to 60 s for another writer's lock."""
        return {"timeout": 60} if self.sqlite_file is not None else {}

    @property
    def _own_db(self) -> Path:
        return (self.run_root / STUDY_DB).resolve()
