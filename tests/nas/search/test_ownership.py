"""A run directory keeps one study's files: another study, another storage or a replaced study.db is refused."""

import json

import optuna
import pytest

from dsdnas.errors import RunError
from dsdnas.nas.runs.rundir import RunDir
from dsdnas.nas.search.location import StorageLocation
from dsdnas.nas.search.workers import check_files_match, check_new_study, check_run_dir, trial_folders
from dsdnas.search_spaces import get_space
from tests.support import ScriptedTrial

STUDY = "dsd-tiny-mnist-sample"


def _run(tmp_path, storage=None, study=STUDY):
    run_dir = RunDir(tmp_path / "run")
    run_dir.root.mkdir(parents=True, exist_ok=True)
    location = StorageLocation.for_run(storage, run_dir)
    run_dir.run_json.write_text(json.dumps({"study": study, "storage": location.recorded}))
    return run_dir, location


def _arch_folder(run_dir: RunDir, number: int, picks: dict | None = None):
    arch = get_space("dsd-tiny").sample(ScriptedTrial(picks), (1, 28, 28), 10)
    folder = run_dir.trial_dir(number)
    folder.mkdir(parents=True)
    (folder / "arch.json").write_text(arch.to_json())
    return arch


def test_trial_folders_are_the_numbered_folders_only(tmp_path):
    run_dir = RunDir(tmp_path)
    assert trial_folders(run_dir) == []
    for name in ("10", "2", "notes", "3.bak"):
        (tmp_path / "trials" / name).mkdir(parents=True)
    (tmp_path / "trials" / "7").write_text("a file, not a folder")
    assert trial_folders(run_dir) == [2, 10]


def test_the_same_study_in_the_same_storage_goes_on(tmp_path):
    run_dir, location = _run(tmp_path)
    check_run_dir(run_dir, STUDY, location)  # no error
    check_run_dir(RunDir(tmp_path / "new"), STUDY, location)  # a new folder: nothing to check


def test_another_study_is_refused_naming_both_and_the_way_out(tmp_path):
    run_dir, location = _run(tmp_path)
    with pytest.raises(RunError) as refused:
        check_run_dir(run_dir, "other", location)
    assert str(refused.value) == (
        f"{run_dir.root} holds study '{STUDY}'; a run directory keeps one study's files. "
        f"Continue it with --study {STUDY}, or pass --out NEW_DIR for study 'other'"
    )


def test_the_same_study_in_another_storage_is_refused(tmp_path):
    run_dir, _ = _run(tmp_path)  # its study.db
    elsewhere = StorageLocation.for_run(f"sqlite:///{tmp_path / 'shared.db'}", run_dir)
    with pytest.raises(RunError, match=r"study lives in .*run/study.db \(no --storage\); pass the same --storage"):
        check_run_dir(run_dir, STUDY, elsewhere)
    shared_dir, shared = _run(tmp_path / "b", storage=f"sqlite:///{tmp_path / 'shared.db'}")
    with pytest.raises(RunError, match=r"study lives in sqlite:///.*shared.db; pass the same --storage"):
        check_run_dir(shared_dir, STUDY, StorageLocation.for_run(None, shared_dir))


def test_a_file_for_out_and_trial_folders_without_run_json_are_refused(tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("x")
    with pytest.raises(RunError, match=r"--out .*plain is a file, not a folder"):
        check_run_dir(RunDir(plain), STUDY, StorageLocation.for_run(None, RunDir(plain)))
    orphan = RunDir(tmp_path / "orphan")
    (orphan.root / "trials" / "0").mkdir(parents=True)
    with pytest.raises(RunError, match="holds trial folders but no run.json"):
        check_run_dir(orphan, STUDY, StorageLocation.for_run(None, orphan))


def test_a_new_study_finding_trial_files_means_the_storage_was_replaced(tmp_path):
    run_dir, location = _run(tmp_path)
    check_new_study(run_dir, STUDY, location)  # no trial folders: fine
    _arch_folder(run_dir, 0)
    _arch_folder(run_dir, 1)
    with pytest.raises(RunError, match=r"holds the files of 2 trial\(s\): the storage was emptied or replaced"):
        check_new_study(run_dir, STUDY, location)


def test_trial_files_must_hold_the_architecture_the_study_recorded(tmp_path):
    run_dir, _ = _run(tmp_path)
    study = optuna.create_study(directions=["maximize", "minimize"], study_name=STUDY)
    arch = _arch_folder(run_dir, 0)
    trial = study.ask()
    trial.set_user_attr("arch_hash", arch.hash)
    check_files_match(run_dir, study)  # the same architecture
    study.ask()  # trial 1: created, nothing recorded yet (a killed worker): its folder may hold anything
    _arch_folder(run_dir, 1, {"stem.channels": 1})
    check_files_match(run_dir, study)
    other = _arch_folder(run_dir, 2, {"stem.channels": 1})
    (run_dir.trial_dir(3)).mkdir()  # no arch.json: nothing to compare
    study.ask().set_user_attr("arch_hash", "0" * len(other.hash))
    recorded = "0" * len(other.hash)
    with pytest.raises(
        RunError, match=rf"holds architecture {other.hash}, but trial 2 of study '{STUDY}' is {recorded}:"
    ):
        check_files_match(run_dir, study)
    run_dir.trial_dir(2).joinpath("arch.json").unlink()
    _arch_folder(run_dir, 4)  # a folder the study has no trial for
    with pytest.raises(RunError, match="trial 4 of study .* is not in the study: these files belong to another"):
        check_files_match(run_dir, study)
