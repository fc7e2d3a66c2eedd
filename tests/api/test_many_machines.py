"""One study on a real PostgreSQL server, three workers with their own hostnames and folders.

CI starts the server (.ci/postgres); locally the `postgres_url` fixture starts a throwaway
cluster when Debian's postgresql is installed, and the tests skip otherwise.
"""

import collections
import html
import json
import os
import shlex
import signal
import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path

import optuna
import pytest
from typer.testing import CliRunner, Result

from dsdnas.cli import app
from dsdnas.nas.runs.rundir import METRICS_FILE
from dsdnas.nas.search.location import StorageLocation
from dsdnas.nas.search.records import Status, records
from dsdnas.nas.search.workers import ArchClaims
from tests.support import evaluated_in_study, read_trials_csv

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

# Six architectures, so that three workers keep sampling the same ones.
SIX = """
name = "six"
[stem]
channels = [8]
[stages]
count = [1]
blocks = [1]
widths = [[8, 16, 24]]
strides = [2]
[block]
kind = ["standard", "separable"]
kernel = [3]
dilation = [1]
"""


def invoke(*args: object) -> Result:
    return CliRunner().invoke(app, list(map(str, args)))


def worker(number: int, out: Path, url: str, study: str, artifacts: Path, space: Path, budget: int) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "dsdnas", "search", "--storage", url, "--study", study, "--out", str(out),
        "--budget", str(budget), "--artifacts", str(artifacts), "--space", str(space), "--dataset", "mnist-sample",
        "--epochs", "2", "--train-limit", "2000", "--early-stop", "off", "--device", "cpu", "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "DSDNAS_HOSTNAME": f"m{number}", "DSDNAS_HEARTBEAT_S": "1", "DSDNAS_GRACE_S": "4"}
    env["OMP_NUM_THREADS"] = "1"  # three workers on two cores
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _training(trial: optuna.trial.FrozenTrial, folder: Path) -> bool:
    """Whether `trial` is being trained now: running, not a twin being given up, without metrics.json."""
    attrs = trial.user_attrs
    return (
        trial.state.name == "RUNNING"
        and bool(attrs.get("notation"))
        and "status" not in attrs
        and not (folder / "trials" / str(trial.number) / METRICS_FILE).exists()
    )


def _freeze_one_in_training(workers: list[subprocess.Popen], url: str, study_name: str, folders: list[Path]):
    """Stop (SIGSTOP) a worker training a trial after the first three: (its index, the trial), else None.

    Whichever worker it is: which of three workers trains what depends on the machine's load (on
    CI the last one started met a budget already filled three times in a row). The trial is read
    again while its worker is frozen, so it cannot change under the test: killed, it dies mid-training.
    """
    try:
        trials = optuna.load_study(study_name=study_name, storage=url).get_trials(deepcopy=False)
    except KeyError:  # no study yet
        return None
    for trial in trials[3:]:  # the first three are the enqueued candidate, left to its holder and twins
        index = int(str(trial.user_attrs.get("worker", "m0:")).split(":")[0][1:]) - 1
        if index < 0 or workers[index].poll() is not None or not _training(trial, folders[index]):
            continue
        workers[index].send_signal(signal.SIGSTOP)
        again = optuna.load_study(study_name=study_name, storage=url).get_trials(deepcopy=False)[trial.number]
        if _training(again, folders[index]):
            return index, trial.number
        workers[index].send_signal(signal.SIGCONT)
    return None


# Three workers start on the same candidate (the slowest of the six): contention, not left to chance.
SAME = {"s0.width": 24, "s0.b0.kind": "standard"}


def test_three_workers_one_killed_share_one_study_exactly(postgres_url, tmp_path):
    budget, space = 6, tmp_path / "six.toml"
    space.write_text(SIX)
    # The workers and the commands after them are given a password (trust auth accepts any), which
    # must reach no line they print (trial, waiting:, heartbeat, export) and no file they write.
    url = postgres_url.replace("postgres@", "postgres:hunter2@")
    study_name = f"shared-{uuid.uuid4().hex[:8]}"
    created = optuna.create_study(storage=postgres_url, study_name=study_name, directions=["maximize", "minimize"])
    for _ in range(3):
        created.enqueue_trial(SAME)
    artifacts, folders = tmp_path / "artifacts", [tmp_path / f"w{i}" for i in (1, 2, 3)]
    workers = [worker(i + 1, folders[i], url, study_name, artifacts, space, budget) for i in range(3)]
    deadline = time.monotonic() + 180
    while (frozen := _freeze_one_in_training(workers, postgres_url, study_name, folders)) is None:
        assert any(process.poll() is None for process in workers), "the budget was met before a trial was caught"
        assert time.monotonic() < deadline
        time.sleep(0.2)
    victim_index, doomed = frozen
    survivors = [i for i in range(3) if i != victim_index]
    workers[victim_index].send_signal(signal.SIGKILL)
    printed = [workers[victim_index].communicate()]
    for i in survivors:
        printed.append(workers[i].communicate(timeout=300))
        assert workers[i].returncode == 0, printed[-1][1]
    study = optuna.load_study(study_name=study_name, storage=postgres_url)
    found = records(study)
    assert evaluated_in_study(study) == budget  # counted from the trials' own states, apart from the loop's count
    assert "RUNNING" not in {record.state for record in found}
    killed = next(r for r in found if r.number == doomed)
    assert killed.state == "FAIL"
    assert killed.reason == f"worker {killed.worker} stopped sending heartbeats (none for 4 s)"
    retries = [t for t in study.trials if t.system_attrs.get("failed_trial") == doomed]  # Optuna's retry callback
    assert len(retries) == 1 and retries[0].params == study.trials[doomed].params
    trained_per_arch = collections.Counter(r.arch_hash for r in found if r.status is Status.TRAINED)
    assert max(trained_per_arch.values()) == 1  # no architecture trained twice
    # The killed trial's claim on its architecture was taken over: it now names the trial that trained it.
    owner = ArchClaims(StorageLocation(postgres_url), study_name).owner(killed.arch_hash)
    assert owner != doomed and next(r for r in found if r.number == owner).trained
    # The three that started on one candidate: one trained it (or was killed training it), two gave it up.
    first_three = found[:3]
    assert len({r.arch_hash for r in first_three}) == 1
    (holder,) = [r for r in first_three if r.status is not Status.TWIN]
    for twin in first_three:
        if twin is not holder:
            assert twin.reason == f"trial {holder.number} is training the same architecture ({holder.arch_hash})"
    assert study.metric_names == ["accuracy", "macs"]

    # Export and fine-tune, from one surviving worker's folder, a trial that the other trained.
    trained_by = {i: [r for r in found if r.trained and r.worker.startswith(f"m{i + 1}:")] for i in survivors}
    maker = next(i for i in survivors if trained_by[i])  # the killed trial's retry was trained by one of them
    reader, by_other = folders[next(i for i in survivors if i != maker)], trained_by[maker][0]
    # In this process (CliRunner): the commands are what is tested here, not the interpreter's start-up.
    shipped, tuned_out = str(tmp_path / "shipped"), str(tmp_path / "tuned")
    exported = invoke("export", reader, "--trial", by_other.number, "--storage", url, "--out", shipped)
    assert exported.exit_code == 0, exported.output
    assert (reader / "trials" / str(by_other.number) / "weights.safetensors").exists()  # fetched and kept
    tuned = invoke(
        "finetune", reader, "--trial", by_other.number, "--epochs", "1", "--storage", url,
        "--device", "cpu", "--out", tuned_out,
    )  # fmt: skip
    assert tuned.exit_code == 0, tuned.output
    listed = invoke("trials", reader, "--storage", url)
    assert f"{len(found)} trials" in listed.output
    report = (reader / "report.html").read_text()
    masked_url = postgres_url.replace("postgres@", "postgres:***@")
    # The ready-made commands reach the shared study: quoted for the shell (***), escaped for HTML.
    assert f"--storage {html.escape(shlex.quote(masked_url))}" in report
    lines = [line for out, err in printed for line in (out + err).splitlines()]
    lines += [line for result in (exported, tuned, listed) for line in result.output.splitlines()]
    assert any(line.startswith("trial ") and " trained: " in line for line in lines)  # the workers' lines are here
    # The heartbeat failure was printed (by the worker that ended the trial), so its line was checked below.
    assert [line for line in lines if line.startswith(f"trial {doomed} ") and killed.reason in line] != []
    assert [line for line in lines if "hunter2" in line] == []
    assert [record.reason for record in found if "hunter2" in str(record.reason)] == []
    written = [path for path in tmp_path.rglob("*") if path.is_file() and b"hunter2" in path.read_bytes()]
    assert written == []


def test_a_worker_waiting_on_another_machines_trial_says_so_without_the_password(postgres_url, tmp_path):
    """The budget is already filled by a trial another machine is training (named, its heartbeat fresh):
    the worker prints its `waiting:` line, then a Ctrl-C's line, and neither shows the password."""
    study_name = f"wait-{uuid.uuid4().hex[:8]}"
    study = optuna.create_study(storage=postgres_url, study_name=study_name, directions=["maximize", "minimize"])
    trial = study.ask()
    trial.set_user_attr("worker", "elsewhere:4242")  # alive on another machine: no process check can end it
    with warnings.catch_warnings(action="ignore", category=optuna.exceptions.ExperimentalWarning):
        optuna.storages.RDBStorage(postgres_url, heartbeat_interval=60).record_heartbeat(trial._trial_id)  # fresh
    url = postgres_url.replace("postgres@", "postgres:hunter2@")  # trust auth accepts any password
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "dsdnas", "search", "--storage", url, "--study", study_name, "--budget", "1",
             "--out", str(tmp_path / "run"), "--space", "dsd-tiny", "--dataset", "mnist-sample", "--epochs", "1",
             "--train-limit", "600", "--device", "cpu", "--quiet"],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "DSDNAS_HOSTNAME": "m1"},
        )  # fmt: skip
    waiting = "waiting: 0 evaluated and 1 running in other workers fill the budget"
    deadline = time.monotonic() + 120
    try:
        while waiting not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 130, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()  # a worker waiting for ever must not outlive the test
    lines = log.read_text().splitlines()
    assert waiting in lines and any(line.startswith("interrupted: ") for line in lines), lines
    assert [line for line in lines if "hunter2" in line] == []
    written = [path for path in tmp_path.rglob("*") if path.is_file() and b"hunter2" in path.read_bytes()]
    assert written == []
    assert study.trials[0].state.name == "RUNNING"  # the other machine's trial was left alone


def test_without_artifacts_the_error_says_who_trained_it_and_where(postgres_url, tmp_path):
    study_name = f"apart-{uuid.uuid4().hex[:8]}"
    space = tmp_path / "six.toml"
    space.write_text(SIX)
    common = ["--storage", postgres_url, "--study", study_name, "--space", str(space), "--dataset", "mnist-sample",
              "--epochs", "1", "--train-limit", "600", "--device", "cpu", "--quiet"]  # fmt: skip
    env = {**os.environ, "DSDNAS_HOSTNAME": "other-machine"}
    first = subprocess.run([sys.executable, "-m", "dsdnas", "search", "--budget", "1", "--out", str(tmp_path / "a"),
                            *common], capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert first.returncode == 0, first.stderr
    second = invoke("search", "--budget", "1", "--out", tmp_path / "b", *common)  # this machine
    assert second.exit_code == 0, second.output
    result = invoke("export", tmp_path / "b", "--trial", "0", "--storage", postgres_url)
    message = result.output.strip()
    assert result.exit_code == 2 and len(message.splitlines()) == 1
    assert "trained by worker other-machine:" in message and str(tmp_path / "a" / "trials" / "0") in message
    assert "--artifacts" in message and "not trained" not in message


def test_a_missing_driver_names_the_package_and_never_the_password(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "dsdnas", "search", "--storage", "postgresql+psycopg2://user:hunter2@127.0.0.1/db",
         "--out", str(tmp_path / "run"), "--device", "cpu", "--dataset", "mnist-sample"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2 and "pip install psycopg2-binary" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr and "user:***@" in result.stderr
    assert not (tmp_path / "run").exists()


def test_run_json_and_the_report_never_show_the_password(postgres_url, tmp_path):
    url = postgres_url.replace("postgres@", "postgres:hunter2@")  # trust auth accepts any password
    run = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "dsdnas", "search", "--storage", url, "--study", f"pw-{uuid.uuid4().hex[:8]}",
         "--out", str(run), "--budget", "1", "--space", "dsd-tiny", "--dataset", "mnist-sample", "--epochs", "1",
         "--train-limit", "600", "--device", "cpu", "--quiet"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for path in run.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".html", ".csv"):
            assert "hunter2" not in path.read_text(errors="ignore"), path
    assert json.loads((run / "run.json").read_text())["storage"].startswith("postgresql://postgres:***@")
    assert "hunter2" not in result.stdout + result.stderr
    frame = read_trials_csv(run)
    assert len(frame) == 1


def test_no_command_shows_the_password_on_success_or_on_its_error_paths(postgres_url, tmp_path):
    """trials, report, export, finetune and baseline on the shared study, a refused "other settings" search, and
    every command against a server that refuses the connection: the password is in no line and in no file."""
    url = postgres_url.replace("postgres@", "postgres:hunter2@")  # trust auth accepts any password
    run, study = tmp_path / "run", f"pw-{uuid.uuid4().hex[:8]}"
    common = ["--space", "dsd-tiny", "--dataset", "mnist-sample", "--epochs", "1", "--train-limit", "600",
              "--device", "cpu", "--quiet"]  # fmt: skip
    searched = invoke("search", "--storage", url, "--study", study, "--out", run, "--budget", "1", *common)
    assert searched.exit_code == 0, searched.output
    outputs = {"search": searched}
    for command in (
        ["trials", run],
        ["report", run],
        ["export", run, "--trial", "0", "--out", tmp_path / "shipped"],
        ["finetune", run, "--trial", "0", "--epochs", "1", "--device", "cpu", "--out", tmp_path / "tuned"],
        ["baseline", run, "--model", "linear", "--epochs", "1", "--device", "cpu"],  # writes RUN/baselines/linear
    ):
        outputs[command[0]] = result = invoke(*command, "--storage", url)
        assert result.exit_code == 0, result.output
    longer = [*(arg if arg != "1" else "2" for arg in common), "--early-stop", "off"]  # --epochs 2, no rungs
    outputs["other settings"] = other = invoke(
        "search", "--storage", url, "--study", study, "--out", run, "--budget", "2", *longer
    )
    assert other.exit_code == 2 and "other settings (train.epochs)" in other.output and "postgres:***@" in other.output
    refused = "postgresql://user:hunter2@127.0.0.1:1/db"  # nothing listens on port 1
    for command in (["search", "--out", tmp_path / "new", *common], ["trials", run], ["report", run],
                    ["export", run, "--trial", "0"], ["finetune", run, "--trial", "0", "--device", "cpu"],
                    ["baseline", run, "--model", "linear", "--device", "cpu"]):  # fmt: skip
        outputs[f"{command[0]} (refused)"] = result = invoke(*command, "--storage", refused)
        assert result.exit_code == 2 and "postgresql://user:***@127.0.0.1:1/db" in result.output, result.output
    assert (run / "baselines" / "linear" / "baseline.json").exists()  # its files are among those checked
    shown = {name: result.output for name, result in outputs.items() if "hunter2" in result.output}
    assert shown == {}
    written = [path for path in tmp_path.rglob("*") if path.is_file() and b"hunter2" in path.read_bytes()]
    assert written == []
