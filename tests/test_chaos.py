"""Trying to break it: kill -9, Ctrl-C, a full disk, corrupt files and bad input, through the real CLI.

Every case ends with a non-zero exit and at most a few lines, never a traceback, and
nothing finished is lost.
"""

import contextlib
import json
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import optuna
import pytest
import sqlalchemy
from optuna.trial import TrialState
from typer.testing import CliRunner

import dsdnas
from dsdnas.api import load_run
from dsdnas.cli import app
from dsdnas.nas.files import file_sha256
from dsdnas.nas.runs.rundir import METRICS_FILE
from dsdnas.nas.search.records import records
from tests.conftest import skip_or_fail
from tests.support import FAST, FAST_ARGS, evaluated_in_csv, evaluated_in_study, read_trials_csv

pytestmark = pytest.mark.slow
DSDNAS = [sys.executable, "-m", "dsdnas"]


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*DSDNAS, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def invoke(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The same CLI in this process (no 2 s interpreter start-up), for refusals that need no signal or exit path.

    An exception that escaped the CLI's handler shows as a traceback, which the checks refuse.
    """
    with contextlib.chdir(cwd or Path.cwd()):
        result = CliRunner().invoke(app, list(map(str, args)))
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    output = result.output + (f"Traceback: {result.exception!r}" if escaped else "")
    return subprocess.CompletedProcess(args, result.exit_code, stdout=output, stderr="")


BAD_INPUT_EXIT, MACHINE_EXIT = 2, 1  # the README's exit codes: bad input, a failure of the machine


def assert_one_clean_line(
    result: subprocess.CompletedProcess, *culprits: str, code: int = BAD_INPUT_EXIT, max_lines: int = 3
) -> None:
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == code, (result.returncode, output)
    assert "Traceback" not in output, output
    assert len(output.splitlines()) <= max_lines, output
    for culprit in culprits:
        assert culprit in output, output


def assert_consistent(run: Path, budget: int) -> None:
    """Exactly the budget finished, nothing RUNNING, and every trained trial's files are complete.

    The count is taken twice, apart from the code that counts: from the study's own trial
    states and from trials.csv's status column (the README: trained, reused and stopped count).
    """
    _, study, _ = load_run(run)
    found = records(study)
    assert "RUNNING" not in {record.state for record in found}
    assert evaluated_in_study(study) == budget and evaluated_in_csv(run) == budget
    for record in found:
        if record.trained:
            folder = run / "trials" / str(record.number)
            assert file_sha256(folder / "weights.safetensors") == record.weights_sha256
            assert json.loads((folder / "arch.json").read_text())["stem"] == record.arch["stem"]


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder`, by path, with its SHA-256: what "nothing written" compares."""
    return {str(path.relative_to(folder)): file_sha256(path) for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("finished") / "run"
    dsdnas.search(budget=2, out=out, **FAST)
    return out


KILL_MOMENTS = ("training", "files written", "second trial")  # taken in turn, each seen happen before the kill
# Batches of 8 give a 1-epoch candidate on 540 training images 67 steps and a rung after 7 (the default
# --early-stop once): a trial past its rung, its result unwritten, is training for 60 steps more.
KILL_ARGS = [*FAST_ARGS, "--batch-size", "8"]
RECOVERED = re.compile(r"(?:completed|recorded|retrying) trial\(s\) \[([\d, ]+)\]")


def _wait_until(condition, process: subprocess.Popen, timeout_s: float = 120) -> bool:
    """True once `condition()` holds; False if the process ended first (the budget was met)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if process.poll() is not None:
            return False
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.02)
    return True


def _training(study: optuna.Study, out: Path, pid: int) -> list[int]:
    """Process `pid`'s trials past their rung, their result unwritten: training.

    A rung's scores are the one thing training writes on its trial while it runs; a trial
    stopped at its first rung writes metrics.json before it tells the study.
    """
    return [
        trial.number
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if str(trial.user_attrs.get("worker", "")).endswith(f":{pid}")
        and len(trial.user_attrs.get("rung_train_losses", {})) == 1
        and not (out / "trials" / str(trial.number) / METRICS_FILE).exists()
    ]


def _freeze_in_training(process: subprocess.Popen, out: Path, *, files_written: bool = False) -> int | None:
    """Stop `process` (SIGSTOP) while one of its trials trains, and return that trial; None if it ended first.

    Read again once frozen: between a read and the signal the trial may have moved on. With
    `files_written` the trial goes on while this test holds the database's write lock (BEGIN
    IMMEDIATE): trained to its end, or stopped at the rung whose scores it wrote before it was judged,
    the search writes its files (weights.safetensors if trained, and metrics.json), then waits on the
    lock to tell the study (SQLite's timeout, 60 s), and is frozen there. The moment is then certain,
    where a kill timed from the files alone lost the race to the study's few milliseconds.
    """
    database = out / "study.db"
    storage = optuna.storages.RDBStorage(f"sqlite:///{database}", engine_kwargs={"connect_args": {"timeout": 1}})
    study = optuna.load_study(study_name=None, storage=storage)
    lock = sqlite3.connect(database, timeout=30, isolation_level=None)  # transactions begun by hand
    deadline, doomed = time.monotonic() + 120, None
    try:
        while doomed is None and process.poll() is None:
            assert time.monotonic() < deadline, "no progress"
            with contextlib.suppress(sqlalchemy.exc.OperationalError):  # the search held the database's lock
                if _training(study, out, process.pid):
                    if files_written:
                        lock.execute("BEGIN IMMEDIATE")
                    process.send_signal(signal.SIGSTOP)
                    doomed = next(iter(_training(study, out, process.pid)), None)
            if doomed is None:
                if lock.in_transaction:
                    lock.execute("ROLLBACK")
                process.send_signal(signal.SIGCONT)  # it moved on meanwhile, or was not stopped
                time.sleep(0.02)
        if doomed is not None and files_written:
            process.send_signal(signal.SIGCONT)  # on to the lock
            assert _wait_until((out / "trials" / str(doomed) / METRICS_FILE).exists, process, timeout_s=60)
            process.send_signal(signal.SIGSTOP)
        return doomed
    finally:
        if doomed is None:
            process.send_signal(signal.SIGCONT)  # never left stopped, whatever failed here
        if lock.in_transaction:
            lock.execute("ROLLBACK")  # the process is stopped: it tells nothing before it is killed
        lock.close()
        storage.engine.dispose()


def test_kills_inside_trials_at_every_moment_lose_nothing(tmp_path):
    """Each kill lands inside a trial, timed from what the search has done (never from the clock):
    while it trains, after its files are written but before the study hears, or in the next trial
    after one finished. Every killed trial is then recovered by the next start (the first two kinds
    certainly), and no finished trial is ever lost."""
    # 12: trials stopped at a rung take a fraction of a second, and four launches must still find one that trains
    out, budget, rng = tmp_path / "run", 12, random.Random(0)
    command = [*DSDNAS, "search", "--budget", str(budget), "--out", str(out), *KILL_ARGS]
    kept: dict[int, str] = {}  # trained trials seen so far: number -> SHA-256 of their weights
    logs, killed_training, killed_written = [], [], []
    for kill in range(2 * len(KILL_MOMENTS)):
        before = {path.parent.name for path in out.glob("trials/*/arch.json")}
        logs.append(tmp_path / f"launch{kill}.log")
        with logs[-1].open("w") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        moment = KILL_MOMENTS[kill % len(KILL_MOMENTS)]

        def started(before: set[str] = before, count: int = 2 if moment == "second trial" else 1) -> list[str]:
            new = sorted({path.parent.name for path in out.glob("trials/*/arch.json")} - before, key=int)
            return new if len(new) >= count else []

        if not _wait_until(started, process):
            break  # the budget was met before a trial started
        doomed = None
        if moment in ("training", "files written"):
            if (doomed := _freeze_in_training(process, out, files_written=moment == "files written")) is None:
                break  # the budget was met before a trial trained
        else:  # inside the second trial, which may be stopped at its first rung within a tenth of a second
            time.sleep(rng.uniform(0.0, 0.1))
        process.send_signal(signal.SIGKILL)
        process.wait()
        _, study, _ = load_run(out)
        if moment == "training":  # the kill landed in training: the dead process's last word on its trial says so
            assert _training(study, out, process.pid) == [doomed], (kill, doomed)
            killed_training.append(doomed)
        elif moment == "files written":  # its files complete, the study never told
            assert study.trials[doomed].state is TrialState.RUNNING, (kill, doomed)
            # Trained, or stopped: a rung's scores are written before it is judged
            status = json.loads((out / "trials" / str(doomed) / METRICS_FILE).read_text())["status"]
            killed_written.append((doomed, status))
        trained = {r.number: r.weights_sha256 for r in records(study) if r.trained}
        assert all(trained.get(number) == sha256 for number, sha256 in kept.items()), (kill, moment)
        kept.update(trained)
    final = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    notes = "\n".join(log.read_text() for log in logs) + final.stdout
    recovered = {int(n) for found in RECOVERED.findall(notes) for n in found.split(",")}
    assert {*killed_training, *(n for n, _ in killed_written)} <= recovered, notes  # the next start ended each
    assert_consistent(out, budget)
    _, study, _ = load_run(out)
    assert all(r.weights_sha256 == kept[r.number] for r in records(study) if r.number in kept)
    assert len(killed_training) == len(killed_written) == 2  # each kill landed at its moment
    finished_as = {"trained": ("completed", TrialState.COMPLETE), "stopped": ("recorded", TrialState.PRUNED)}
    for done, status in killed_written:  # finished from its files as what they say, never trained again
        said, state = finished_as[status]
        assert f"{said} trial(s) [{done}]" in notes, notes
        assert study.trials[done].state is state
    for doomed in killed_training:  # no files to complete it from: failed with the reason, its candidate retried
        trial = study.trials[doomed]
        assert trial.state is TrialState.FAIL
        assert trial.user_attrs["reason"] == f"worker {trial.user_attrs['worker']} died (process gone)"
        retries = [t for t in study.trials if t.system_attrs.get("retry_history", [])[-1:] == [doomed]]
        assert len(retries) == 1 and retries[0].params == trial.params
    exported = run_cli("export", out, "--pick", "best", "--out", tmp_path / "shipped")
    assert exported.returncode == 0, exported.stderr


@pytest.mark.parametrize(
    ("objectives", "into_trial_s"),
    [
        # Latency an objective: each candidate is timed before it trains (about 1.5 s).
        ("accuracy,latency", 0.3),
        # As a candidate starts training, when garbage collection runs SQLAlchemy's finalizers: a Ctrl-C
        # landing in one was swallowed and the search ran to its end (dsdnas.interrupts).
        ("accuracy,macs", 0.6),
    ],
)
def test_ctrl_c_prints_one_line_writes_the_results_first_and_resumes(tmp_path, objectives, into_trial_s):
    out = tmp_path / "run"
    command = [*DSDNAS, "search", "--budget", "3", "--out", str(out), *FAST_ARGS[:-3], "--train-limit", "3000"]
    command += ["--objectives", objectives]
    process = subprocess.Popen([*command, "--epochs", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "trials" / "0" / "arch.json").exists():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    time.sleep(into_trial_s)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert stderr.strip() == (
        "interrupted: what had finished is kept; rerun the same command to go on (a single fine-tune: add --resume)"
    )
    assert "Traceback" not in stdout
    frame = read_trials_csv(out)
    assert frame.loc[frame["trial"] == 0, "state"].item() == "FAIL"  # written before exiting
    assert "interrupted" in frame.loc[frame["trial"] == 0, "reason"].item()
    resumed = subprocess.run([*command, "--epochs", "3"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert_consistent(out, 3)


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        skip_or_fail(f"cannot mount a small tmpfs here ({made.stderr.decode().strip()[:80]})")
    yield mount
    subprocess.run(["umount", "--lazy", str(mount)], check=False)  # lazy: this process may hold study.db open


def test_a_full_disk_is_one_line_and_a_trained_trial_survives_it(small_disk, tmp_path):
    out = small_disk / "run"
    command = [*DSDNAS, "search", "--budget", "4", "--out", str(out), *FAST_ARGS]
    full = subprocess.run(command, capture_output=True, text=True, timeout=300)
    # Up to 12 lines: the log lines of the trials that finished before the disk filled.
    assert_one_clean_line(full, "disk full writing", str(out), code=MACHINE_EXIT, max_lines=12)
    assert full.stderr.count("\n") == 1
    subprocess.run(["mount", "-o", "remount,size=20m", str(small_disk)], check=True)
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert_consistent(out, 4)
    _, study, _ = load_run(out)
    trained = {record.number for record in records(study) if record.trained}
    for folder in (out / "trials").iterdir():  # no orphans: complete files belong to a trained trial
        if (folder / "weights.safetensors").exists():
            assert int(folder.name) in trained


def test_report_on_a_full_disk_is_one_line(finished_run, small_disk):
    result = run_cli("report", finished_run, "--out", small_disk / "report.html")
    assert_one_clean_line(result, "disk full writing", "report.html", "MB", code=MACHINE_EXIT)


def test_corrupt_weights_and_checkpoints_are_one_line_each(finished_run, tmp_path):
    run = tmp_path / "copy"
    shutil.copytree(finished_run, run)
    weights = run / "trials" / "0" / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:200])
    assert_one_clean_line(invoke("export", run, "--trial", "0"), str(weights), "SHA-256", "--trial 0")
    folder = tmp_path / "ft"
    tuned = invoke("finetune", run, "--trial", "1", "--epochs", "1", "--out", folder, "--device", "cpu")
    assert tuned.returncode == 0, tuned.stderr
    (folder / "checkpoint.pt").write_bytes(b"\x80\x04not a checkpoint")
    resumed = invoke("finetune", run, "--trial", "1", "--epochs", "1", "--out", folder, "--device", "cpu", "--resume")
    assert_one_clean_line(resumed, "checkpoint.pt", "corrupt")
    longer = invoke("finetune", run, "--trial", "1", "--epochs", "2", "--out", folder, "--device", "cpu", "--resume")
    assert_one_clean_line(longer, "config.epochs 1 -> 2")


def test_a_second_study_in_the_same_run_directory_is_refused(finished_run, tmp_path):
    run = tmp_path / "copy"
    shutil.copytree(finished_run, run)
    before = snapshot(run)
    assert {"study.db", "run.json", "trials.csv", "trials/0/weights.safetensors"} <= before.keys()
    other = invoke("search", "--budget", "1", "--study", "other", "--out", run, *FAST_ARGS)
    assert_one_clean_line(other, "holds study 'dsd-tiny-mnist-sample'", "--out NEW_DIR")
    assert snapshot(run) == before  # study.db, run.json, trials.csv, every trial's files: untouched
    (run / "study.db").write_bytes(b"")  # emptied
    emptied = snapshot(run)
    for command in (["trials", run], ["report", run], ["export", run]):
        assert_one_clean_line(invoke(*command), "study.db is empty")
    again = invoke("search", "--budget", "1", "--out", run, *FAST_ARGS)
    assert_one_clean_line(again, "emptied or replaced")
    assert snapshot(run) == emptied  # no command wrote anything, the search included


def test_a_relative_folder_dataset_works_from_anywhere_and_moves_with_data_dir(tmp_path, mnist_sample):
    """The exports in fresh processes: one process keeps the folder it read in its dataset cache."""
    from tests.support import write_image_folder

    images = {str(d): mnist_sample.x_train[mnist_sample.y_train == d][:12, 0].numpy() for d in range(3)}
    write_image_folder(tmp_path / "digits", images)
    searched = invoke(
        "search", "--budget", "1", "--dataset", "folder:digits", "--space", "dsd-tiny", "--epochs", "1",
        "--device", "cpu", "--out", "run", "--quiet", cwd=tmp_path,
    )  # fmt: skip
    assert searched.returncode == 0, searched.stdout
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert run_cli("export", tmp_path / "run", "--trial", "0", cwd=elsewhere).returncode == 0
    (tmp_path / "digits").rename(tmp_path / "moved")
    lost = run_cli("export", tmp_path / "run", "--trial", "0", cwd=elsewhere)
    assert_one_clean_line(lost, "digits: no such directory", "--data-dir")
    found = run_cli("export", tmp_path / "run", "--trial", "0", "--data-dir", tmp_path / "moved", cwd=elsewhere)
    assert found.returncode == 0, found.stderr


BAD_INPUT = [
    (["search", "--budget", "soon"], ["--budget 'soon'"]),
    (["search", "--budget", "0"], ["--budget 0"]),
    (["search", "--epochs", "0"], ["--epochs 0"]),
    (["search", "--batch-size", "1"], ["--batch-size 1"]),
    (["search", "--val-fraction", "0"], ["--val-fraction 0.0"]),
    (["search", "--val-fraction", "1.5"], ["--val-fraction 1.5"]),
    (["search", "--label-smoothing", "2"], ["--label-smoothing 2.0"]),
    (["search", "--objectives", "accuracy,speed"], ["--objectives accuracy,speed"]),
    (["search", "--sampler", "grid"], ["--sampler 'grid'"]),
    (["search", "--optimizer", "lion"], ["--optimizer 'lion'"]),
    (["search", "--schedule", "step"], ["--schedule 'step'"]),
    (["search", "--device", "tpu"], ["--device 'tpu'"]),
    (["search", "--max-macs", "-5"], ["--max-macs -5"]),
    (["search", "--color", "sepia"], ["--color 'sepia'"]),
    (["search", "--dataset", "cifar-100"], ["unknown dataset 'cifar-100'"]),
    (["search", "--dataset", "npz:/no/such.npz"], ["npz:/no/such.npz", "no such file"]),
    (["search", "--space", "nope"], ["unknown search space 'nope'"]),
    (["search", "--space", "/no/such.toml"], ["/no/such.toml"]),
    (["search", "--out", "{file}"], ["is a file"]),
    (
        ["search", "--storage", "sqlite:////no/such/dir/x.db"],
        ["cannot open storage sqlite:////no/such/dir/x.db", "/no/such/dir is missing"],
    ),
    (["search", "--storage", "postgresql://user:secret@127.0.0.1:1/db"], ["cannot open storage", "***"]),
    (["trials", "/no/such/run"], ["/no/such/run", "not a dsdnas run directory"]),
    (["report", "/no/such/run"], ["not a dsdnas run directory"]),
    (["profile", "/no/such/arch.json"], ["/no/such/arch.json"]),
    (["profile", "{file}"], ["architecture JSON is invalid"]),
    (["blocks", "-k", "4"], ["--kernel 4"]),
    (["spaces", "--input", "0x28x28"], ["--input '0x28x28'"]),
    (["spaces", "--classes", "1"], ["--classes 1"]),
    (["export", "/no/such/run", "--name", "Path"], ["--name 'Path'"]),
    (["export", "/no/such/run", "--name", "My Net"], ["--name 'My Net'", "My_Net"]),
    (["export", "/no/such/run", "--format", "tflite"], ["--format tflite"]),
    (["export", "{run}", "--trial", "99"], ["trial 99 is not a trained trial"]),
    (["finetune", "{run}", "--init", "imagenet"], ["--init 'imagenet'"]),
    (["finetune", "{run}", "--freeze", "head"], ["--freeze applies to transfer"]),
    (["finetune", "{run}", "--dataset", "folder:/no/such"], ["folder:/no/such", "no such directory"]),
]


def _invoke_in_process(args: list[str]) -> tuple[int, str]:
    result = invoke(*args)
    return result.returncode, result.stdout


def _invoke_process(args: list[str]) -> tuple[int, str]:
    result = run_cli(*args)
    return result.returncode, result.stdout + result.stderr


def _bad_input_problems(case: int, run: Path, folder: Path, invoke) -> list[str]:
    """Run one bad command in its own folder; what is wrong with how it failed (nothing, ideally)."""
    args, culprits = BAD_INPUT[case]
    folder.mkdir()
    plain_file = folder / "plain.txt"
    plain_file.write_text("not a folder")
    args = [a.replace("{file}", str(plain_file)).replace("{run}", str(run)) for a in args]
    if args[0] == "search" and "--out" not in args:
        args += ["--out", str(folder / "run")]
    if args[0] in ("search", "finetune") and "--device" not in args:
        args += ["--device", "cpu"]
    code, output = invoke(args)
    output = output.strip()
    problems = []
    if code != BAD_INPUT_EXIT or "Traceback" in output or len(output.splitlines()) > 3:
        problems.append(f"exit {code}, {len(output.splitlines())} lines")
    problems += [f"does not name {culprit!r}" for culprit in culprits if culprit not in output]
    if "secret" in output:
        problems.append("shows a password")
    if sorted(path.name for path in folder.iterdir()) != ["plain.txt"]:
        problems.append(f"created {sorted(path.name for path in folder.iterdir())}")
    return [f"{' '.join(args[:3])}: {problem} -> {output[:200]}" for problem in problems]


def test_bad_input_is_one_line_naming_the_culprit(finished_run, tmp_path):
    """Every case: exit 2, no traceback, at most 3 lines, the culprit named, nothing created or changed."""
    before = snapshot(finished_run)
    problems = [
        problem
        for case in range(len(BAD_INPUT))
        for problem in _bad_input_problems(case, finished_run, tmp_path / f"case{case}", _invoke_in_process)
    ]
    assert problems == []
    assert snapshot(finished_run) == before  # the export and finetune cases wrote nothing into the run


def test_bad_input_through_a_real_process_is_one_line(finished_run, tmp_path):
    """The first case of each command again, as `python -m dsdnas` in a fresh process: stderr, exit code and all.

    The cases run four at a time: each is a fresh process, so they cannot disturb each other.
    """
    firsts = list({args[0]: case for case, (args, _) in reversed(list(enumerate(BAD_INPUT)))}.values())
    with ThreadPoolExecutor(max_workers=4) as pool:
        found = pool.map(
            lambda case: _bad_input_problems(case, finished_run, tmp_path / f"case{case}", _invoke_process), firsts
        )
        problems = [problem for case in found for problem in case]
    assert len(firsts) >= 8 and problems == []


def test_a_read_only_output_folder_is_one_line(tmp_path):
    mount = tmp_path / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mount)]).returncode != 0:
        skip_or_fail("cannot mount a read-only tmpfs here")
    try:
        result = run_cli("search", "--budget", "1", "--out", mount / "run", *FAST_ARGS)
        # Bad input: --out names a place that cannot be written, checked before anything is created.
        assert_one_clean_line(result, str(mount / "run"), "Read-only file system", code=BAD_INPUT_EXIT)
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_huge_image_size_is_refused_with_the_figures_before_training(tmp_path):
    from tests.support import noise_images, write_image_folder

    write_image_folder(tmp_path / "imgs", {"a": noise_images(50, 8), "b": noise_images(200, 7)})
    started = time.monotonic()
    result = run_cli(
        "search", "--budget", "1", "--dataset", f"folder:{tmp_path / 'imgs'}", "--image-size", "4096",
        "--device", "cpu", "--out", tmp_path / "run",
    )  # fmt: skip
    assert_one_clean_line(result, "needs about", "GB", "free", "--batch-size or --image-size", code=MACHINE_EXIT)
    assert time.monotonic() - started < 60  # refused before training, not after minutes of it
