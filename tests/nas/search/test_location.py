"""The storage value: one URL read once into what every part needs, by the table in location.py."""

from pathlib import Path

import pytest

from dsdnas.nas.runs.rundir import RunDir
from dsdnas.nas.search.location import StorageLocation


@pytest.fixture
def run_dir(tmp_path) -> RunDir:
    return RunDir(tmp_path / "run")


def test_without_storage_the_study_is_the_runs_own_sqlite_file(run_dir):
    location = StorageLocation.for_run(None, run_dir)
    assert location.url == f"sqlite:///{(run_dir.root / 'study.db').resolve()}"
    assert location.sqlite_file == (run_dir.root / "study.db").resolve()
    assert location.recorded is None  # run.json says: RUN/study.db
    assert location.lock_file == run_dir.root / "claim.lock" and location.lock_shared
    assert not location.on_a_server and location.connect_args == {"timeout": 60}


def test_naming_the_runs_own_file_is_the_same_as_naming_nothing_but_is_recorded(run_dir):
    location = StorageLocation.for_run(f"sqlite:///{run_dir.root / 'study.db'}", run_dir)
    assert location.lock_file == run_dir.root / "claim.lock"
    assert location.recorded == f"sqlite:///{run_dir.root / 'study.db'}"


def test_a_shared_sqlite_file_is_locked_beside_itself(run_dir, tmp_path):
    location = StorageLocation.for_run(f"sqlite:///{tmp_path / 'shared.db'}", run_dir)
    assert location.lock_file == tmp_path / "shared.db.claim.lock" and location.lock_shared


def test_postgresql_is_shown_masked_locked_by_the_server_and_reachable_from_other_machines(run_dir):
    location = StorageLocation.for_run("postgresql+psycopg://ann:s3cr:et@db.example:5432/nas", run_dir)
    assert location.label == "postgresql+psycopg://ann:***@db.example:5432/nas"
    assert location.recorded == location.label and "s3cr" not in location.recorded
    assert location.scheme == "postgresql+psycopg" and location.dialect == "postgresql"
    assert location.is_postgresql and location.lock_file is None and location.lock_shared
    assert location.on_a_server and location.sqlite_file is None and location.connect_args == {}


def test_another_server_falls_back_to_the_run_directorys_lock_which_other_machines_do_not_share(run_dir):
    location = StorageLocation.for_run("mysql+pymysql://ann:pw@db/nas", run_dir)
    assert location.dialect == "mysql" and location.lock_file == run_dir.root / "claim.lock"
    assert not location.lock_shared


def test_a_url_read_back_from_run_json_cannot_connect(run_dir):
    assert StorageLocation.for_run("postgresql://ann:***@db/nas", run_dir).hides_password
    assert not StorageLocation.for_run("postgresql://ann:pw@db/nas", run_dir).hides_password
    assert StorageLocation.for_run("postgresql://db/nas", run_dir).label == "postgresql://db/nas"  # no password


def test_no_module_but_the_storage_value_reads_a_storage_url():
    source = Path(__file__).resolve().parents[3] / "src" / "dsdnas"
    marks = ('"sqlite:', 'startswith("postgres', 'split("://"', "sqlite:///{")  # reading or building a URL
    readers = sorted(
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        if path.name != "location.py" and any(mark in path.read_text() for mark in marks)
    )
    assert readers == []
