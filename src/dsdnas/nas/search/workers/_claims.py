"""No architecture trained twice: a worker claims an architecture's hash before training it.

Workers that share a study can sample the same candidate seconds apart. Reuse only sees
COMPLETE trials, so both would train it. Instead, a worker first inserts (study,
architecture hash) into a table of its own, `dsdnas_arch_claims`, in the study's
database: the primary key lets exactly one insert win, on SQLite and on PostgreSQL.
The loser learns which trial holds the claim. A claim lasts while its trial runs: once
that trial has failed (its worker died, the heartbeat stopped), the next worker takes the
claim over with a compare-and-set on the owner.
"""

from __future__ import annotations

import time

import sqlalchemy
from sqlalchemy import Column, Float, Integer, MetaData, PrimaryKeyConstraint, String, Table

from dsdnas.nas.search.location import StorageLocation

_METADATA = MetaData()
CLAIMS = Table(
    "dsdnas_arch_claims",
    _METADATA,
    Column("study", String(512), nullable=False),
    Column("arch_hash", String(64), nullable=False),
    Column("trial", Integer, nullable=False),
    Column("worker", String(300), nullable=False),
    Column("claimed", Float, nullable=False),  # time.time() of the claim
    PrimaryKeyConstraint("study", "arch_hash"),
)


def create_claims_table(location: StorageLocation) -> None:
    """Create the claims table if it is missing; call it holding the tables lock."""
    engine = sqlalchemy.create_engine(location.url, poolclass=sqlalchemy.pool.NullPool)
    try:
        _METADATA.create_all(engine, checkfirst=True)
    finally:
        engine.dispose()


class ArchClaims:
    """The claims of one study, in its storage's database (the table made by `create_claims_table`)."""

    def __init__(self, location: StorageLocation, study: str) -> None:
        self.engine = sqlalchemy.create_engine(location.url, connect_args=location.connect_args)
        self.study = study

    def claim(self, arch_hash: str, trial: int, worker: str) -> int:
        """Claim `arch_hash` for `trial`; returns the trial that holds the claim (`trial` itself if it won)."""
        row = {"study": self.study, "arch_hash": arch_hash, "trial": trial, "worker": worker, "claimed": time.time()}
        try:
            with self.engine.begin() as connection:
                connection.execute(CLAIMS.insert().values(**row))
            return trial
        except sqlalchemy.exc.IntegrityError:
            return self.owner(arch_hash)

    def owner(self, arch_hash: str) -> int:
        with self.engine.connect() as connection:
            found = connection.execute(
                sqlalchemy.select(CLAIMS.c.trial).where(CLAIMS.c.study == self.study, CLAIMS.c.arch_hash == arch_hash)
            ).scalar()
        return -1 if found is None else int(found)

    def take_over(self, arch_hash: str, *, stale_owner: int, trial: int, worker: str) -> bool:
        """Move a claim from a trial that no longer runs to `trial`; False when another worker moved it first."""
        with self.engine.begin() as connection:
            moved = connection.execute(
                CLAIMS.update()
                .where(CLAIMS.c.study == self.study, CLAIMS.c.arch_hash == arch_hash, CLAIMS.c.trial == stale_owner)
                .values(trial=trial, worker=worker, claimed=time.time())
            )
        return moved.rowcount == 1

    def close(self) -> None:
        self.engine.dispose()
