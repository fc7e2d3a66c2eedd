"""What recovery makes of each trial a dead worker can leave, called on a real study and real files.

tests/api/test_recovery.py holds the promise end to end, through a real search; these
call each recovery step on a study made here, in the states a kill leaves (RUNNING with
its files whole, FAIL after a failed study write, never named, silent on another
machine), so that every branch is checked in milliseconds.
"""

import contextlib
import datetime
import os
import signal
import sqlite3
import subprocess
import sys

import optuna
import pytest
from optuna.trial import TrialState

from dsdnas.nas.files import file_sha256, write_json
from dsdnas.nas.hardware import hostname
from dsdnas.nas.runs.rundir import METRICS_FILE, WEIGHTS_FILE, RunDir
from dsdnas.nas.search.records import TrialRecord
from dsdnas.nas.search.storage import write_user_attrs
from dsdnas.nas.search.workers import _recovery, end_dead_trials
from dsdnas.nas.search.workers._locks import FileLock
from dsdnas.nas.search.workers._recovery import (
    adopt_failed_trials,
    fail_orphaned_trials,
    fail_stale_trials,
    finished_from_files,
    recover_dead_trials,
)
from dsdnas.search_spaces import get_space

ACCURACY, MACS = 0.75, 12345  # what the dead worker's metrics.json says it measured
GONE = "its worker died as it created the trial, before naming itself on it"


def _dead_worker() -> str:
    process = subprocess.Popen(["true"])
    process.wait()  # exited and reaped: its pid names no live process
    return f"{hostname()}:{process.pid}"


@contextlib.contextmanager
def _live_process():
    """A live process of this machine that any signal but 0 would end (SIGHUP too, even under nohup)."""
    code = "import signal, time; signal.signal(signal.SIGHUP, signal.SIG_DFL); time.sleep(30)"
    with subprocess.Popen([sys.executable, "-c", code]) as alive:
        yield alive
        with pytest.raises(subprocess.TimeoutExpired):
            alive.wait(timeout=0.2)  # still alive: asked whether it lives, never signalled
        alive.send_signal(signal.SIGKILL)


@pytest.fixture
def run(tmp_path):
    """A study in the run directory's study.db (objectives accuracy and MACs), and the run directory."""
    run_dir = RunDir(tmp_path / "run")
    run_dir.root.mkdir()
    study = optuna.create_study(
        storage=f"sqlite:///{run_dir.root / 'study.db'}", study_name="s", directions=["maximize", "minimize"]
    )
    study.set_user_attr("settings", {"objectives": ["accuracy", "macs"]})
    return study, run_dir


def _started(study, run_dir, worker: str, folder: str | None = None, fixed: dict | None = None) -> int:
    """A trial as a worker starts it: a candidate drawn (`fixed` choices enqueued), the record naming the
    worker and its folder (`folder`: another one; "": none, as runs of older versions have)."""
    if fixed:
        study.enqueue_trial(fixed)
    trial = study.ask()
    arch = get_space("dsd-tiny").sample(trial, (1, 28, 28), 10)
    record = TrialRecord(
        worker=worker,
        folder=str(run_dir.trial_dir(trial.number)) if folder is None else folder,
        arch=arch.to_dict(),
        notation=arch.notation,
        arch_hash=arch.hash,
    )
    write_user_attrs(study._storage, trial._trial_id, record.attrs())
    return trial.number


def _trained_files(study, run_dir, number: int, folder=None, **changes) -> None:
    """The files a trained trial leaves: metrics.json (with the weights' hash) and weights.safetensors."""
    record = TrialRecord.from_trial(study.trials[number])
    folder = folder or run_dir.trial_dir(number)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / WEIGHTS_FILE).write_bytes(b"weights of trial %d" % number)
    metrics = {
        "trial": number,
        "status": "trained",
        "arch_hash": record.arch_hash,
        "notation": record.notation,
        "worker": record.worker,
        "folder": record.folder,
        "val_accuracy": ACCURACY,
        "val_size": 400,
        "macs": MACS,
        "params": 678,
        "weights_sha256": file_sha256(folder / WEIGHTS_FILE),
        "mean": [0.13],  # keys a record does not hold, or that are Optuna's, are left out of it
        "number": 99,
        "state": "FAIL",
        "values": [0.0, 0.0],
        **changes,
    }
    write_json(folder / METRICS_FILE, metrics)


def _left(study, number: int, state: TrialState) -> None:
    """The trial as its worker left it: RUNNING (killed) or FAIL (its study write failed)."""
    if state != TrialState.RUNNING:
        assert study._storage.set_trial_state_values(study.trials[number]._trial_id, state)


def _trial(study, number: int):
    return study._storage.get_trial(study.trials[number]._trial_id)


def _retries(study, number: int) -> list:
    return [t for t in study.trials if t.system_attrs.get("failed_trial") == number]


def test_a_dead_workers_running_trial_with_whole_files_is_completed_with_their_figures(run):
    study, run_dir = run
    number = _started(study, run_dir, _dead_worker())
    _trained_files(study, run_dir, number)
    assert recover_dead_trials(study, run_dir) == ([number], [], [])
    trial = _trial(study, number)
    assert trial.state == TrialState.COMPLETE and trial.values == [ACCURACY, MACS]
    record = TrialRecord.from_trial(trial)
    assert (record.status, record.val_size, record.params) == ("trained", 400, 678)
    assert record.arch == TrialRecord.from_trial(study.trials[number]).arch  # kept from the study, not the files
    assert "mean" not in trial.user_attrs and _retries(study, number) == []


def test_what_optuna_holds_of_a_trial_is_never_read_from_its_files(run):
    """metrics.json's own "number", "state" and "values" (a file can say anything) are not the record's."""
    study, run_dir = run
    number = _started(study, run_dir, _dead_worker())
    _trained_files(study, run_dir, number)
    finished = finished_from_files(TrialRecord.from_trial(study.trials[number]), run_dir)
    assert (finished.number, finished.state, finished.values) == (number, TrialState.RUNNING.name, None)


@pytest.mark.parametrize(
    "damage",
    [
        {"status": "failed"},
        {"status": "reused"},  # naming no twin
        {"status": "reused", "reused_from": "1"},
        {"arch_hash": "0123456789ab"},
        {"weights_sha256": None},
        {"weights_sha256": "0" * 64},
        "no metrics.json",
        "no weights",
    ],
    ids=str,
)
def test_a_dead_workers_trial_whose_files_do_not_vouch_for_it_is_failed_with_the_reason_and_retried(run, damage):
    study, run_dir = run
    worker = _dead_worker()
    number = _started(study, run_dir, worker)
    _trained_files(study, run_dir, number, **(damage if isinstance(damage, dict) else {}))
    if damage == "no metrics.json":
        (run_dir.trial_dir(number) / METRICS_FILE).unlink()
    if damage == "no weights":
        (run_dir.trial_dir(number) / WEIGHTS_FILE).unlink()
    assert recover_dead_trials(study, run_dir) == ([], [], [number])
    trial = _trial(study, number)
    assert trial.state == TrialState.FAIL and trial.values is None
    assert trial.user_attrs["reason"] == f"worker {worker} died (process gone)"
    assert TrialRecord.from_trial(trial).outcome == "fail"
    (retry,) = _retries(study, number)
    assert retry.state == TrialState.WAITING and retry.params == trial.params


def test_a_dead_workers_reused_trial_is_completed_from_its_metrics_with_its_twins_figures(run):
    # Killed after metrics.json and the record said "reused", before Optuna heard: it copied a trained
    # twin's result and keeps no weights, so its metrics.json alone finishes it, as a reused trial.
    study, run_dir = run
    number = _started(study, run_dir, _dead_worker())
    _trained_files(study, run_dir, number, status="reused", reused_from=0, weights_sha256=None)
    (run_dir.trial_dir(number) / WEIGHTS_FILE).unlink()
    write_user_attrs(study._storage, study.trials[number]._trial_id, {"status": "reused", "reused_from": 0})
    assert recover_dead_trials(study, run_dir) == ([number], [], [])
    trial = _trial(study, number)
    assert trial.state == TrialState.COMPLETE and trial.values == [ACCURACY, MACS]
    record = TrialRecord.from_trial(trial)
    assert (record.status, record.reused_from, record.counted) == ("reused", 0, True)
    assert _retries(study, number) == []


@pytest.mark.parametrize(
    ("said", "shown"), [("reused", "fail"), ("trained", "fail"), ("stopped", "fail"), ("skipped", "skipped")]
)
def test_a_dead_workers_trial_whose_record_claimed_a_result_its_files_lack_shows_no_result_nor_does_its_retry(
    run, said, shown
):
    """Killed between saving its record and telling the study, its metrics.json lost: the result its record
    claims must not show on the FAIL trial (trials.csv would count a "reused" row as evaluated), nor on the
    retry, which inherits the record while it waits and runs."""
    study, run_dir = run
    number = _started(study, run_dir, _dead_worker())
    write_user_attrs(study._storage, study.trials[number]._trial_id, {"status": said, "reused_from": 0})
    assert recover_dead_trials(study, run_dir) == ([], [], [number])
    record = TrialRecord.from_trial(_trial(study, number))
    assert (record.state, record.outcome, record.counted) == ("FAIL", shown, False)
    (retry,) = _retries(study, number)
    assert retry.user_attrs["status"] == said  # Optuna's retry copies the record
    assert TrialRecord.from_trial(retry).outcome == "waiting"


@pytest.mark.parametrize("saved", [True, False], ids=["record saved", "metrics.json only"])
def test_a_dead_workers_trial_stopped_at_a_rung_is_finished_as_stopped_from_its_metrics(run, saved):
    # Killed after metrics.json (and maybe the record) said "stopped", before Optuna marked it PRUNED:
    # it was evaluated, the budget counts it, so it is finished as it was, not failed and retried.
    study, run_dir = run
    number = _started(study, run_dir, _dead_worker())
    reason = "stopped after 0.3226 of 3 epochs (18 steps) at 52.00%: not in the top 1/3 of its rung"
    _trained_files(study, run_dir, number, status="stopped", reason=reason, weights_sha256=None, epochs=0.3226)
    (run_dir.trial_dir(number) / WEIGHTS_FILE).unlink()  # a stopped candidate keeps no weights
    if saved:
        write_user_attrs(study._storage, study.trials[number]._trial_id, {"status": "stopped", "reason": reason})
    assert recover_dead_trials(study, run_dir) == ([], [number], [])
    trial = _trial(study, number)
    assert trial.state == TrialState.PRUNED and trial.values is None and _retries(study, number) == []
    record = TrialRecord.from_trial(trial)
    assert (record.status, record.reason, record.epochs, record.val_accuracy) == ("stopped", reason, 0.3226, ACCURACY)
    assert record.counted


def test_the_line_a_search_starts_with_says_a_recovered_stopped_trial_was_stopped_not_completed(run, tmp_path):
    study, run_dir = run
    stopped, trained = _started(study, run_dir, _dead_worker()), _started(study, run_dir, _dead_worker())
    _trained_files(study, run_dir, stopped, status="stopped", reason="not in the top half", weights_sha256=None)
    (run_dir.trial_dir(stopped) / WEIGHTS_FILE).unlink()
    _trained_files(study, run_dir, trained)
    found = end_dead_trials(study, run_dir, FileLock(tmp_path / "claim.lock"))
    assert found.notes() == [
        f"completed trial(s) [{trained}] from their files after a killed run",
        f"recorded trial(s) [{stopped}] as stopped at a rung from their files after a killed run",
    ]


def test_a_stopped_trials_metrics_of_another_architecture_do_not_vouch_for_it(run):
    study, run_dir = run
    number = _started(study, run_dir, _dead_worker())
    _trained_files(study, run_dir, number, status="stopped", arch_hash="another", weights_sha256=None)
    assert recover_dead_trials(study, run_dir) == ([], [], [number])


def test_the_files_are_read_from_the_folder_the_trial_recorded(run, tmp_path):
    study, run_dir = run
    number = _started(study, run_dir, _dead_worker())
    elsewhere = tmp_path / "other-run" / "trials" / str(number)
    _trained_files(study, run_dir, number, folder=elsewhere)
    record = TrialRecord.from_trial(study.trials[number])
    from_recorded = TrialRecord(**{**record.__dict__, "folder": str(elsewhere)})
    assert finished_from_files(from_recorded, run_dir).macs == MACS
    assert finished_from_files(TrialRecord(**{**record.__dict__, "folder": ""}), run_dir) is None  # trials/N: empty


def test_a_record_without_a_folder_is_completed_from_the_run_directorys_trial_folder(run):
    study, run_dir = run
    number = _started(study, run_dir, _dead_worker(), folder="")
    _trained_files(study, run_dir, number)
    assert recover_dead_trials(study, run_dir) == ([number], [], [])


def test_a_host_name_with_colons_names_the_dead_process_by_what_follows_its_last_colon(run, monkeypatch):
    monkeypatch.setenv("DSDNAS_HOSTNAME", "rack:7:node")
    study, run_dir = run
    running = _started(study, run_dir, _dead_worker())
    _trained_files(study, run_dir, running)
    failed = _started(study, run_dir, _dead_worker())
    _trained_files(study, run_dir, failed)
    _left(study, failed, TrialState.FAIL)
    assert recover_dead_trials(study, run_dir) == ([running], [], [])
    assert adopt_failed_trials(study, run_dir) == [failed]


def test_only_running_trials_are_recovered_a_retry_waiting_its_turn_is_left_waiting(run):
    """A retry carries its dead worker's name and folder until a worker takes it up: it is not dead itself."""
    study, run_dir = run
    number = _started(study, run_dir, _dead_worker())  # no files: failed and retried
    assert recover_dead_trials(study, run_dir) == ([], [], [number])
    (retry,) = _retries(study, number)
    assert retry.user_attrs["worker"] == study.trials[number].user_attrs["worker"]
    study.enqueue_trial({"stages": 1})  # and one enqueued by hand, named by nobody: not an orphan either
    assert recover_dead_trials(study, run_dir) == ([], [], [])
    assert fail_orphaned_trials(study, lock_shared=True) == []
    assert [t.state for t in study.trials[1:]] == [TrialState.WAITING] * 2 and len(study.trials) == 3


def test_every_dead_trial_is_recovered_whatever_trials_come_before_it(run):
    study, run_dir = run
    with _live_process() as alive:
        live = _started(study, run_dir, f"{hostname()}:{alive.pid}")
        dead = _started(study, run_dir, _dead_worker())
        _trained_files(study, run_dir, dead)
        assert recover_dead_trials(study, run_dir) == ([dead], [], [])
    assert _trial(study, live).state == TrialState.RUNNING


@pytest.mark.parametrize("whose", ["this process", "a live process", "another machine", "no pid"])
def test_a_running_trial_whose_worker_may_live_is_left_running(run, whose):
    study, run_dir = run
    with _live_process() as alive:
        worker = {
            "this process": f"{hostname()}:{os.getpid()}",
            "a live process": f"{hostname()}:{alive.pid}",
            "another machine": "other-machine:" + _dead_worker().rpartition(":")[2],
            "no pid": f"{hostname()}:",
        }[whose]
        number = _started(study, run_dir, worker)
        _trained_files(study, run_dir, number)
        assert recover_dead_trials(study, run_dir) == ([], [], [])
    assert _trial(study, number).state == TrialState.RUNNING


def test_a_process_of_another_user_counts_as_alive(run, monkeypatch):
    """Signal 0 to another user's process is refused (EPERM): it exists, so its trial is not ended here."""
    study, run_dir = run
    number = _started(study, run_dir, f"{hostname()}:1")

    def refused(pid, signal):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(_recovery.os, "kill", refused)
    assert recover_dead_trials(study, run_dir) == ([], [], [])
    assert _trial(study, number).state == TrialState.RUNNING


def test_a_trial_another_worker_finished_first_is_left_as_that_worker_left_it(run):
    """Recovery reads RUNNING trials, then writes: a recovering worker that lost the race reports nothing."""
    study, run_dir = run
    finished, failed = _started(study, run_dir, _dead_worker()), _started(study, run_dir, _dead_worker())
    _trained_files(study, run_dir, finished)  # `failed` has no files: it will be failed and retried
    seen = study.get_trials(states=(TrialState.RUNNING,))  # what this worker read
    study._storage.set_trial_state_values(seen[0]._trial_id, TrialState.COMPLETE, [0.5, 1.0])  # the other worker
    study._storage.set_trial_state_values(seen[1]._trial_id, TrialState.FAIL)
    study.get_trials = lambda deepcopy=True, states=None: seen  # the stale read, as the race leaves it
    assert recover_dead_trials(study, run_dir) == ([], [], [])
    assert _trial(study, finished).values == [0.5, 1.0] and "status" not in _trial(study, finished).user_attrs
    assert _trial(study, failed).user_attrs["reason"] == "" and _retries(study, failed) == []  # as it started


@pytest.mark.parametrize("drawn", [True, False])
def test_an_unnamed_running_trial_is_failed_under_a_shared_lock_and_retried_if_it_drew_a_candidate(run, drawn):
    study, run_dir = run
    named = _started(study, run_dir, f"{hostname()}:{os.getpid()}")  # before it: it does not end the scan
    trial = study.ask()
    if drawn:
        get_space("dsd-tiny").sample(trial, (1, 28, 28), 10)
    assert fail_orphaned_trials(study, lock_shared=True) == [trial.number]
    orphan = _trial(study, trial.number)
    assert orphan.state == TrialState.FAIL and orphan.user_attrs["reason"] == GONE
    assert len(_retries(study, trial.number)) == int(drawn)
    assert _trial(study, named).state == TrialState.RUNNING


def test_an_unnamed_enqueued_trial_is_retried_with_its_enqueued_candidate(run):
    study, run_dir = run
    study.enqueue_trial({"stem.channels": 8})
    trial = study.ask()  # fixed_params: the candidate was chosen before the worker died
    assert fail_orphaned_trials(study, lock_shared=True) == [trial.number]
    (retry,) = _retries(study, trial.number)
    assert retry.system_attrs["fixed_params"] == {"stem.channels": 8}


def test_under_a_lock_others_may_not_share_an_unnamed_trial_is_failed_only_after_the_grace_period(run):
    study, run_dir = run
    young, old = study.ask(), study.ask()
    started = datetime.datetime.now() - datetime.timedelta(seconds=_recovery.GRACE_S + 5)
    with sqlite3.connect(run_dir.root / "study.db") as db:
        db.execute("UPDATE trials SET datetime_start = ? WHERE trial_id = ?", (started.isoformat(" "), old._trial_id))
    assert fail_orphaned_trials(study, lock_shared=False) == [old.number]
    assert _trial(study, young.number).state == TrialState.RUNNING
    assert _trial(study, old.number).user_attrs["reason"] == GONE


@pytest.mark.parametrize("whose", ["a dead worker", "this process"])
def test_a_failed_trial_with_whole_files_is_carried_on_by_a_new_complete_trial_that_takes_its_folder(run, whose):
    study, run_dir = run
    worker = _dead_worker() if whose == "a dead worker" else f"{hostname()}:{os.getpid()}"
    number = _started(study, run_dir, worker)
    _trained_files(study, run_dir, number)
    _left(study, number, TrialState.FAIL)
    weights = (run_dir.trial_dir(number) / WEIGHTS_FILE).read_bytes()
    assert adopt_failed_trials(study, run_dir) == [number]
    adopter = study.trials[-1]
    assert adopter.state == TrialState.COMPLETE and adopter.values == [ACCURACY, MACS]
    assert adopter.params == study.trials[number].params
    record = TrialRecord.from_trial(adopter)
    assert (record.adopted_from, record.folder, record.val_size) == (number, "", 400)
    assert (run_dir.trial_dir(adopter.number) / WEIGHTS_FILE).read_bytes() == weights
    assert not run_dir.trial_dir(number).exists()
    assert adopt_failed_trials(study, run_dir) == [] and len(study.trials) == 2  # adopted once


def test_the_adopter_keeps_what_the_sampler_stored_and_reads_the_files_where_they_are_now(run, tmp_path):
    """The run directory was moved since (its recorded folder is gone); an enqueued candidate's system
    attributes, which samplers read, go on with it."""
    study, run_dir = run
    number = _started(study, run_dir, _dead_worker(), folder=str(tmp_path / "moved-away"), fixed={"stages": 1})
    _trained_files(study, run_dir, number)
    _left(study, number, TrialState.FAIL)
    assert adopt_failed_trials(study, run_dir) == [number]
    adopter = study.trials[-1]
    assert adopter.system_attrs == study.trials[number].system_attrs and "fixed_params" in adopter.system_attrs


def test_every_adoptable_trial_is_adopted_whatever_failed_trials_come_before_it(run):
    study, run_dir = run
    no_weights = _started(study, run_dir, _dead_worker())
    _left(study, no_weights, TrialState.FAIL)
    altered = _started(study, run_dir, _dead_worker())
    _trained_files(study, run_dir, altered)
    (run_dir.trial_dir(altered) / WEIGHTS_FILE).write_bytes(b"other")
    _left(study, altered, TrialState.FAIL)
    whole = _started(study, run_dir, _dead_worker())
    _trained_files(study, run_dir, whole)
    _left(study, whole, TrialState.FAIL)
    assert adopt_failed_trials(study, run_dir) == [whole]


def test_a_move_cut_short_by_a_crash_is_redone_without_a_second_adopter(run):
    study, run_dir = run
    number = _started(study, run_dir, _dead_worker())
    _trained_files(study, run_dir, number)
    _left(study, number, TrialState.FAIL)
    adopt_failed_trials(study, run_dir)
    adopter = len(study.trials) - 1
    run_dir.trial_dir(adopter).rename(run_dir.trial_dir(number))  # as if killed before the move
    run_dir.trial_dir(adopter).mkdir()
    (run_dir.trial_dir(adopter) / "arch.json").write_text("{}")  # what a trial that never ran leaves
    assert adopt_failed_trials(study, run_dir) == [number]
    assert len(study.trials) == 2 and (run_dir.trial_dir(adopter) / METRICS_FILE).exists()
    assert not (run_dir.trial_dir(adopter) / "arch.json").exists()


@pytest.mark.parametrize("left", ["a live worker", "another machine", "no weights", "altered weights", "running"])
def test_a_trial_that_is_not_a_finished_failure_is_not_adopted(run, left):
    study, run_dir = run
    with _live_process() as alive:
        worker = {"a live worker": f"{hostname()}:{alive.pid}", "another machine": "m2:1"}.get(left, _dead_worker())
        number = _started(study, run_dir, worker)
        _trained_files(study, run_dir, number)
        if left == "no weights":
            (run_dir.trial_dir(number) / WEIGHTS_FILE).unlink()
        if left == "altered weights":
            (run_dir.trial_dir(number) / WEIGHTS_FILE).write_bytes(b"other")
        _left(study, number, TrialState.RUNNING if left == "running" else TrialState.FAIL)
        assert adopt_failed_trials(study, run_dir) == []
    assert len(study.trials) == 1 and run_dir.trial_dir(number).exists()


def _heartbeat_storage(run_dir: RunDir) -> optuna.storages.RDBStorage:
    url = f"sqlite:///{run_dir.root / 'study.db'}"
    return optuna.storages.RDBStorage(url, heartbeat_interval=10, grace_period=20)


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")  # heartbeat_interval
@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize")  # study.ask
@pytest.mark.parametrize("named", [True, False])
def test_a_trial_silent_for_the_grace_period_is_failed_with_its_worker_named_and_retried(run, named):
    _, run_dir = run
    study = optuna.load_study(study_name="s", storage=_heartbeat_storage(run_dir))
    silent = _started(study, run_dir, "m2:13920") if named else study.ask().number
    beating = study.ask().number
    for number in (silent, beating):
        study._storage.record_heartbeat(study.trials[number]._trial_id)
    an_hour_ago = datetime.datetime.now() - datetime.timedelta(hours=1)
    with sqlite3.connect(run_dir.root / "study.db") as db:
        query = "UPDATE trial_heartbeats SET heartbeat = ? WHERE trial_id = ?"
        db.execute(query, (an_hour_ago, study.trials[silent]._trial_id))
    assert fail_stale_trials(study) == [silent]
    worker = "m2:13920" if named else "?"
    reason = f"worker {worker} stopped sending heartbeats (none for {_recovery.GRACE_S} s)"
    assert _trial(study, silent).user_attrs["reason"] == reason and len(_retries(study, silent)) == 1
    assert _trial(study, beating).state == TrialState.RUNNING


def test_without_a_heartbeat_no_trial_is_stale(run):
    study, run_dir = run  # the run directory's own storage: no heartbeat
    number = _started(study, run_dir, "m2:13920")
    assert fail_stale_trials(study) == []
    memory = optuna.create_study(directions=["maximize", "minimize"])  # no stale-trial query at all
    memory.ask()
    assert fail_stale_trials(memory) == []
    assert _trial(study, number).state == TrialState.RUNNING
