"""Architecture claims: one insert wins; a claim dies with its trial and is taken over."""

import sqlite3
import threading
import time

import optuna
import pytest
import sqlalchemy
from optuna.trial import TrialState

from dsdnas.nas.search.location import StorageLocation
from dsdnas.nas.search.records import Status, TrialRecord
from dsdnas.nas.search.workers import ArchClaims, CandidateTwin, Twins, create_claims_table, trained_twin
from dsdnas.nas.search.workers._claims import CLAIMS


@pytest.fixture
def study_and_claims(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(storage=url, study_name="s", directions=["maximize", "minimize"])
    create_claims_table(StorageLocation(url))
    return study, ArchClaims(StorageLocation(url), "s")


def test_the_first_claim_wins_and_the_second_learns_the_holder(study_and_claims):
    _, claims = study_and_claims
    assert claims.claim("abc", 0, "m1:1") == 0
    assert claims.claim("abc", 1, "m2:2") == 0
    assert claims.claim("def", 1, "m2:2") == 1  # another architecture is free
    other = StorageLocation(claims.engine.url.render_as_string(hide_password=False))
    assert ArchClaims(other, "other-study").claim("abc", 5, "m3:3") == 5  # per study


def test_a_claim_moves_only_from_the_holder_it_names(study_and_claims):
    _, claims = study_and_claims
    claims.claim("abc", 0, "m1:1")
    assert not claims.take_over("abc", stale_owner=7, trial=2, worker="m2:2")  # 7 does not hold it
    assert claims.take_over("abc", stale_owner=0, trial=2, worker="m2:2") and claims.owner("abc") == 2


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_twins_give_up_while_the_holder_runs_and_take_over_once_it_failed(study_and_claims):
    study, claims = study_and_claims
    holder, newcomer = study.ask(), study.ask()
    record = TrialRecord(number=newcomer.number, worker="m2:2", arch_hash="abc")
    assert claims.claim("abc", holder.number, "m1:1") == holder.number
    with pytest.raises(CandidateTwin, match=f"trial {holder.number} is training"):
        Twins(claims).resolve(newcomer, record)
    study.tell(holder, state=TrialState.FAIL)  # its worker died
    assert Twins(claims).resolve(newcomer, record) is None  # the newcomer trains it now
    assert claims.owner("abc") == newcomer.number


class _RacedBy(ArchClaims):
    """This worker's claims, with a third worker's take-over landing just before this one's own:
    the instant three workers meet at a failed holder's claim."""

    def __init__(self, location: StorageLocation, study_name: str, third: int) -> None:
        super().__init__(location, study_name)
        self.third, self.other = third, ArchClaims(location, study_name)  # the third worker's own connection

    def take_over(self, arch_hash: str, *, stale_owner: int, trial: int, worker: str) -> bool:
        if self.third is not None:
            assert self.other.take_over(arch_hash, stale_owner=stale_owner, trial=self.third, worker="m3:3")
            self.third = None
        return super().take_over(arch_hash, stale_owner=stale_owner, trial=trial, worker=worker)


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_a_take_over_lost_to_a_third_worker_gives_the_candidate_up_to_it(study_and_claims):
    study, claims = study_and_claims
    holder, third, newcomer = study.ask(), study.ask(), study.ask()
    claims.claim("abc", holder.number, "m1:1")
    study.tell(holder, state=TrialState.FAIL)  # its worker died; two others want its architecture at once
    raced = _RacedBy(StorageLocation(claims.engine.url.render_as_string(hide_password=False)), "s", third.number)
    record = TrialRecord(number=newcomer.number, worker="m2:2", arch_hash="abc")
    with pytest.raises(CandidateTwin, match=f"trial {third.number} is training"):  # the winner, read again
        Twins(raced).resolve(newcomer, record)
    assert claims.owner("abc") == third.number


def _rows(claims: ArchClaims) -> list[tuple]:
    with claims.engine.connect() as connection:
        found = connection.execute(sqlalchemy.select(CLAIMS).order_by(CLAIMS.c.study, CLAIMS.c.arch_hash))
        return [(r.study, r.arch_hash, r.trial, r.worker) for r in found]


def test_owners_are_per_study_and_per_architecture_and_minus_one_when_unclaimed(study_and_claims, tmp_path):
    _, claims = study_and_claims
    create_claims_table(StorageLocation(f"sqlite:///{tmp_path / 'study.db'}"))  # a second worker: no error
    assert claims.owner("abc") == -1
    claims.claim("abc", 0, "m1:1")
    claims.claim("def", 1, "m1:1")
    other = ArchClaims(StorageLocation(f"sqlite:///{tmp_path / 'study.db'}"), "other")
    other.claim("abc", 4, "m9:9")
    assert (claims.owner("abc"), claims.owner("def"), other.owner("abc"), other.owner("def")) == (0, 1, 4, -1)


def test_a_take_over_moves_one_claim_and_names_the_new_worker(study_and_claims, tmp_path):
    _, claims = study_and_claims
    other = ArchClaims(StorageLocation(f"sqlite:///{tmp_path / 'study.db'}"), "other")
    for owner in (claims, other):
        owner.claim("abc", 0, "m1:1")
    claims.claim("def", 0, "m1:1")
    before = time.time()
    assert claims.take_over("abc", stale_owner=0, trial=3, worker="m2:2")
    with claims.engine.connect() as connection:
        claimed = connection.execute(
            sqlalchemy.select(CLAIMS.c.claimed).where(CLAIMS.c.study == "s", CLAIMS.c.arch_hash == "abc")
        ).scalar_one()
    assert claimed >= before  # the claim's time is the take-over's
    assert _rows(claims) == [
        ("other", "abc", 0, "m1:1"),  # the other study's claim on the same architecture stays
        ("s", "abc", 3, "m2:2"),
        ("s", "def", 0, "m1:1"),  # and so does this study's claim on another architecture
    ]


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_a_trained_twin_is_a_finished_evaluation_of_the_same_architecture(study_and_claims):
    study, _ = study_and_claims
    cases = [  # (arch_hash, status, state): only 3 and 4 count as the twin of "abc"
        ("abc", "trained", TrialState.FAIL),  # its result was never told
        ("abc", "reused", TrialState.COMPLETE),  # a copy: the original is the twin
        ("xyz", "trained", TrialState.COMPLETE),  # another architecture
        ("abc", "stopped", TrialState.PRUNED),
        ("abc", "skipped", TrialState.COMPLETE),
    ]
    for arch_hash, status, state in cases:
        trial = study.ask()
        TrialRecord(arch_hash=arch_hash, status=Status(status)).save_to(trial, "arch_hash", "status")
        study.tell(trial, [0.5, 1.0] if state == TrialState.COMPLETE else None, state=state)
    assert trained_twin(study, "abc").number == 3
    assert trained_twin(study, "xyz").number == 2 and trained_twin(study, "new") is None
    newcomer = study.ask()
    record = TrialRecord(number=newcomer.number, worker="m2:2", arch_hash="abc")
    assert Twins(None).resolve(newcomer, record).number == 3  # no claims (one worker): the twin is reused
    assert Twins(None).resolve(newcomer, TrialRecord(number=newcomer.number, arch_hash="new")) is None


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_a_newcomer_claims_a_free_architecture_and_takes_over_a_claim_of_a_trial_not_in_the_study(
    study_and_claims,
):
    study, claims = study_and_claims
    newcomer = study.ask()
    record = TrialRecord(number=newcomer.number, worker="m2:2", arch_hash="abc")
    assert Twins(claims).resolve(newcomer, record) is None  # free: it trains it
    assert _rows(claims) == [("s", "abc", newcomer.number, "m2:2")]
    claims.claim("def", 1, "m7:7")  # trial 1 is not in this study (yet): not a live holder
    later = TrialRecord(number=newcomer.number, worker="m2:2", arch_hash="def")
    assert Twins(claims).resolve(newcomer, later) is None and claims.owner("def") == newcomer.number


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_waiting_for_a_twin_reuses_it_once_it_finishes(study_and_claims):
    study, claims = study_and_claims
    holder, newcomer = study.ask(), study.ask()
    TrialRecord(arch_hash="abc", status=Status.TRAINED).save_to(holder, "arch_hash", "status")
    claims.claim("abc", holder.number, "m1:1")
    record = TrialRecord(number=newcomer.number, worker="m2:2", arch_hash="abc")
    finisher = threading.Timer(0.3, lambda: study.tell(holder, [0.9, 1.0]))
    finisher.start()
    started = time.monotonic()
    twin = Twins(claims, strategy="wait").resolve(newcomer, record)
    finisher.join()
    assert twin.number == holder.number and time.monotonic() - started >= 0.3


@pytest.mark.slow
def test_a_claim_waits_for_another_writer_of_the_sqlite_file_longer_than_sqlites_5_s(study_and_claims, tmp_path):
    # Workers on one SQLite study write in turns; a claim that gave up after sqlite3's default 5 s
    # would fail a trial while another worker commits a slow write (a full record, a retried lock).
    _, claims = study_and_claims
    other = sqlite3.connect(tmp_path / "study.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")  # another writer holds the database
    release = threading.Timer(5.5, lambda: other.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    try:
        assert claims.claim("abc", 0, "m1:1") == 0
    finally:
        release.join()
        other.close()
    assert time.monotonic() - started >= 5.4  # it did wait for the writer, and then won
