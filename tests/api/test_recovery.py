"""A trial whose worker died after writing its files is completed from them, never trained again.

The dead worker's state is made exactly as a kill leaves it: the trial's files are whole
and the study never heard of the result, so in study.db the trial is RUNNING (killed
before telling the study) or FAIL (the study write failed, a full disk), with no values.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from optuna.trial import TrialState

import dsdnas
from dsdnas.api import load_run
from dsdnas.api.events import SearchObserver
from dsdnas.nas.files import file_sha256
from dsdnas.nas.hardware import hostname
from dsdnas.nas.search.records import TrialRecord
from dsdnas.nas.search.workers._recovery import _dead_here, _dead_or_ours
from tests.support import FAST

pytestmark = pytest.mark.slow


class StartNote(SearchObserver):
    """The note a search starts with and the trials it trains; it stops the search the moment it would wait."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.started: list[int] = []
        self.waits: list[tuple[int, int]] = []

    def waiting(self, running, finished) -> None:
        self.waits.append((running, finished))

    def should_stop(self) -> str | None:
        return "waited" if self.waits else None

    def search_started(self, finished, target, seconds, note) -> None:
        self.notes.append(note)

    def trial_started(self, number, notation, epochs) -> None:
        self.started.append(number)


def _dead_worker() -> str:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return f"{hostname()}:{process.pid}"


def _unfinish(run: Path, number: int, state: str, worker: str, folder: Path | None = None) -> None:
    """Trial `number` as its killed worker left it: `state`, no values, no end time, `worker` on it.

    The run is a copy, so the trial's recorded folder is pointed at the copy's (or at `folder`)."""
    with sqlite3.connect(run / "study.db") as db:
        (trial_id,) = db.execute("SELECT trial_id FROM trials WHERE number = ?", (number,)).fetchone()
        db.execute("UPDATE trials SET state = ?, datetime_complete = NULL WHERE trial_id = ?", (state, trial_id))
        db.execute("DELETE FROM trial_values WHERE trial_id = ?", (trial_id,))
        folder = (folder or run / "trials" / str(number)).resolve()
        for key, value in (("worker", worker), ("folder", str(folder))):
            db.execute(
                "UPDATE trial_user_attributes SET value_json = ? WHERE trial_id = ? AND key = ?",
                (json.dumps(value), trial_id, key),
            )
        if state == "RUNNING":  # killed before telling the study: the results are in metrics.json only
            db.execute(
                "DELETE FROM trial_user_attributes WHERE trial_id = ? AND key IN ('val_accuracy', 'weights_sha256')",
                (trial_id,),
            )


@pytest.fixture(scope="module")
def two_trials(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("recovery") / "run"
    dsdnas.search(budget=2, out=run, **FAST)
    return run


def _copy(run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run, tmp_path / "run"))


def test_a_running_trial_with_whole_files_and_a_dead_worker_is_completed_not_retrained(two_trials, tmp_path):
    run = _copy(two_trials, tmp_path)
    _, study, _ = load_run(run)
    values = study.trials[1].values
    weights = run / "trials" / "1" / "weights.safetensors"
    sha256, mtime = file_sha256(weights), weights.stat().st_mtime_ns
    _unfinish(run, 1, "RUNNING", _dead_worker())
    observer = StartNote()
    result = dsdnas.search(budget=2, out=run, observer=observer, **FAST)
    assert observer.notes == ["completed trial(s) [1] from their files after a killed run"]
    assert observer.started == []  # nothing was trained: the budget was met by the completed trial
    trial = result.study.trials[1]
    assert len(result.study.trials) == 2 and trial.state == TrialState.COMPLETE and trial.values == values
    assert trial.user_attrs["weights_sha256"] == sha256 and weights.stat().st_mtime_ns == mtime
    assert trial.user_attrs["val_accuracy"] == values[0]  # the record is read back from metrics.json


def test_a_running_trial_of_a_worker_on_another_machine_is_left_to_its_heartbeat(two_trials, tmp_path):
    """Its pid means nothing here: only the heartbeat's silence may end it, never the process check."""
    run = _copy(two_trials, tmp_path)
    elsewhere = "other-machine:" + _dead_worker().rpartition(":")[2]
    _unfinish(run, 1, "RUNNING", elsewhere)
    observer = StartNote()
    result = dsdnas.search(budget=2, out=run, observer=observer, **FAST)
    assert observer.notes == [""] and observer.waits  # it waited for the other machine's trial, then gave up
    assert result.study.trials[1].state == TrialState.RUNNING


def test_a_running_trial_with_altered_weights_is_failed_and_its_candidate_retried(two_trials, tmp_path):
    run = _copy(two_trials, tmp_path)
    weights = run / "trials" / "1" / "weights.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[:-8] + bytes(255 - byte for byte in data[-8:]))  # same size, other bytes
    worker = _dead_worker()
    _unfinish(run, 1, "RUNNING", worker)
    observer = StartNote()
    result = dsdnas.search(budget=2, out=run, observer=observer, **FAST)
    assert observer.notes == ["retrying trial(s) [1] left RUNNING by a killed run"]
    failed, retry = result.study.trials[1], result.study.trials[2]
    assert failed.state == TrialState.FAIL and failed.user_attrs["reason"] == f"worker {worker} died (process gone)"
    assert retry.state == TrialState.COMPLETE and retry.params == failed.params and observer.started == [2]


@pytest.mark.parametrize("whose", ["a dead worker", "this process"])  # a failed write earlier in this search
def test_a_failed_trial_with_whole_files_is_adopted_by_a_new_trial_that_takes_its_folder(two_trials, tmp_path, whose):
    run = _copy(two_trials, tmp_path)
    _, study, _ = load_run(run)
    values, params = study.trials[1].values, study.trials[1].params
    sha256 = file_sha256(run / "trials" / "1" / "weights.safetensors")
    _unfinish(run, 1, "FAIL", _dead_worker() if whose == "a dead worker" else f"{hostname()}:{os.getpid()}")
    observer = StartNote()
    result = dsdnas.search(budget=2, out=run, observer=observer, **FAST)
    assert observer.notes == ["completed trial(s) [1] from their files after a killed run"]
    assert observer.started == []
    adopter = result.study.trials[2]
    assert adopter.state == TrialState.COMPLETE and adopter.user_attrs["adopted_from"] == 1
    assert adopter.values == values and adopter.params == params
    assert file_sha256(run / "trials" / "2" / "weights.safetensors") == sha256
    assert not (run / "trials" / "1").exists()
    assert 1 not in {row["trial"] for row in result.front}
    exported = dsdnas.export(run, trial=2, out=tmp_path / "shipped")  # the adopter's weights are found and verify
    assert (exported.out_dir / "weights.safetensors").exists()


def test_a_host_name_with_colons_still_names_its_process(monkeypatch):
    monkeypatch.setenv("DSDNAS_HOSTNAME", "fe80::1")  # an IPv6 address as the host's name
    pid = _dead_worker().rpartition(":")[2]
    assert _dead_here(TrialRecord(worker=f"fe80::1:{pid}"))
    assert not _dead_here(TrialRecord(worker=f"fe80::1:{os.getpid()}"))  # alive: this process
    assert _dead_or_ours(TrialRecord(worker=f"fe80::1:{pid}"))  # the adoption check reads it the same way
    assert _dead_or_ours(TrialRecord(worker=f"fe80::1:{os.getpid()}"))  # this process's own failed trial


@pytest.mark.parametrize(
    "damage", ["another architecture's metrics", "a failed trial's metrics", "no weights", "no recorded hash"]
)
def test_files_that_do_not_vouch_for_the_trial_fail_it_and_retry_its_candidate(two_trials, tmp_path, damage):
    run = _copy(two_trials, tmp_path)
    folder = run / "trials" / "1"
    metrics = json.loads((folder / "metrics.json").read_text())
    if damage == "another architecture's metrics":
        metrics["arch_hash"] = "0" * len(metrics["arch_hash"])
    elif damage == "a failed trial's metrics":
        metrics["status"] = "failed"
    elif damage == "no weights":
        (folder / "weights.safetensors").unlink()
    else:
        del metrics["weights_sha256"]
    (folder / "metrics.json").write_text(json.dumps(metrics))
    _unfinish(run, 1, "RUNNING", _dead_worker())
    observer = StartNote()
    result = dsdnas.search(budget=2, out=run, observer=observer, **FAST)
    assert observer.notes == ["retrying trial(s) [1] left RUNNING by a killed run"]
    assert result.study.trials[1].state == TrialState.FAIL and observer.started == [2]


def test_a_dead_workers_trial_is_completed_from_the_folder_it_recorded_in_another_run_directory(two_trials, tmp_path):
    """Two terminals on one --storage with their own --out: the dead one's files are in its own folder."""
    run = _copy(two_trials, tmp_path)
    elsewhere = tmp_path / "other-out" / "trials" / "1"
    elsewhere.parent.mkdir(parents=True)
    shutil.move(run / "trials" / "1", elsewhere)
    _unfinish(run, 1, "RUNNING", _dead_worker(), folder=elsewhere)
    observer = StartNote()
    result = dsdnas.search(budget=2, out=run, observer=observer, **FAST)
    assert observer.notes == ["completed trial(s) [1] from their files after a killed run"]
    assert result.study.trials[1].state == TrialState.COMPLETE and observer.started == []


def test_a_failed_trial_of_a_worker_on_another_machine_is_not_adopted_here(two_trials, tmp_path):
    run = _copy(two_trials, tmp_path)
    _unfinish(run, 1, "FAIL", "other-machine:" + _dead_worker().rpartition(":")[2])
    observer = StartNote()
    result = dsdnas.search(budget=2, out=run, observer=observer, **FAST)
    assert observer.notes == [""] and "adopted_from" not in result.study.trials[2].user_attrs
    assert (run / "trials" / "1" / "weights.safetensors").exists()  # its files stay where its worker left them


def test_a_live_worker_on_this_machine_is_only_asked_whether_it_lives_never_signalled():
    # SIGHUP back to its default: a test run under nohup would otherwise ignore a wrong signal 1.
    code = "import signal, time; signal.signal(signal.SIGHUP, signal.SIG_DFL); time.sleep(30)"
    worker = subprocess.Popen([sys.executable, "-c", code])
    try:
        record = TrialRecord(worker=f"{hostname()}:{worker.pid}")
        assert not _dead_here(record)
        with pytest.raises(subprocess.TimeoutExpired):  # still running: the question (signal 0) is no signal
            worker.wait(timeout=0.5)
    finally:
        worker.kill()
        worker.wait()
    assert _dead_here(record)  # gone: its trial is this machine's to recover
