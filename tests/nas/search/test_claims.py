"""Architecture claims: one insert wins; a claim dies with its trial and is taken over."""

import optuna
import pytest
from optuna.trial import TrialState

from dsdnas.nas.search.location import StorageLocation
from dsdnas.nas.search.records import TrialRecord
from dsdnas.nas.search.workers import ArchClaims, CandidateTwin, Twins, create_claims_table


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
