"""Early stopping on real searches: stopped candidates are PRUNED, counted, and never on the front."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from optuna.trial import TrialState

import dsdnas
from dsdnas.api import load_run
from dsdnas.nas.search.records import Status, records
from dsdnas.reports import build_report_data
from tests.support import FAST, evaluated_in_csv, evaluated_in_study, read_trials_csv

pytestmark = pytest.mark.slow
EARLY = {**FAST, "epochs": 3, "early_stop": "on"}  # a rung at epoch 1


def test_stopped_candidates_are_pruned_counted_and_never_on_the_front(tmp_path):
    result = dsdnas.search(budget=8, out=tmp_path, **EARLY)
    found = records(result.study)
    stopped = [r for r in found if r.status is Status.STOPPED]
    assert stopped, "with 8 candidates and a rung that keeps a third, some must stop"
    for record in stopped:
        assert record.state == TrialState.PRUNED.name and record.epochs == 1 and "1" in record.rung_accuracies
        assert record.rung_populations["1"] >= 3 and "stopped after 1 of 3 epochs" in record.reason
        assert not (tmp_path / "trials" / str(record.number) / "weights.safetensors").exists()
        assert record.latency_ms is None  # latency is no objective or limit: only trained candidates are timed
    assert all(r.latency_ms is None for r in found)  # ... and those at the end, while nothing trains
    assert evaluated_in_study(result.study) == 8 and evaluated_in_csv(tmp_path) == 8  # stopped ones count
    front = {row["trial"] for row in json.loads((tmp_path / "pareto.json").read_text())["trials"]}
    assert front and not front & {r.number for r in stopped}
    frame = read_trials_csv(tmp_path)
    assert set(frame.loc[frame["status"] == "stopped", "epochs"]) == {1}
    assert set(frame.loc[frame["status"] == "trained", "epochs"]) == {3}
    assert (frame.loc[frame["status"] == "trained", "latency_ms"] > 0).all()
    assert frame.loc[frame["status"] == "stopped", "latency_ms"].isna().all()
    page = (tmp_path / "report.html").read_text()
    assert 'id="rungs"' in page and '"name": "stopped at a rung"' in page
    with pytest.raises(dsdnas.DsdnasError, match="is not a trained trial"):
        dsdnas.export(tmp_path, trial=stopped[0].number)


def test_a_rung_inside_an_epoch_stops_candidates_there_and_keeps_every_signal(tmp_path):
    result = dsdnas.search(budget=8, out=tmp_path, **{**EARLY, "train_limit": 2000})  # 28 steps an epoch
    found = records(result.study)
    judged = [r for r in found if r.rung_accuracies and r.status is not Status.REUSED]
    assert judged and all(r.rung_accuracies.keys() <= {"0.3214", "1"} for r in judged)  # steps 9 and 28 of 84
    assert all(r.rung_val_losses.keys() == r.rung_train_losses.keys() == r.rung_accuracies.keys() for r in judged)
    early = [r for r in found if r.status is Status.STOPPED and r.epochs == 0.3214]
    assert early, "8 candidates with a rung at step 9 that keeps a third: some stop there"
    for record in early:
        assert record.reason.startswith("stopped after 0.3214 of 3 epochs (9 steps) at ")
        assert record.val_accuracy == record.rung_accuracies["0.3214"] and record.val_accuracy_history == []
    frame = read_trials_csv(tmp_path)
    assert 0.3214 in set(frame.loc[frame["status"] == "stopped", "epochs"])
    assert set(frame.loc[frame["status"] == "trained", "epochs"]) == {3}
    _, study, meta = load_run(tmp_path)
    curves = {curve["trial"]: curve for curve in build_report_data(study, meta, tmp_path).rungs}
    assert [epochs for epochs, _ in curves[early[0].number]["points"]] == [0.3214]  # the report's accuracy by rung


def test_once_judges_at_its_one_rung_and_keeps_the_top_half(tmp_path):
    result = dsdnas.search(budget=8, out=tmp_path, **{**EARLY, "train_limit": 2000, "early_stop": "once"})
    found = records(result.study)
    judged = [r for r in found if r.rung_accuracies and r.status is not Status.REUSED]
    assert judged and all(r.rung_accuracies.keys() == {"0.3214"} for r in judged)  # step 9 of 84 alone
    stopped = [r for r in found if r.status is Status.STOPPED]
    assert stopped, "8 candidates at a rung that keeps half: some stop"
    assert all(r.reason.endswith(": not in the top 1/2 of its rung") and r.epochs == 0.3214 for r in stopped)
    assert result.study.user_attrs["settings"]["early_stop"] == "steps-once"  # never continued under another rule


def test_with_latency_an_objective_every_candidate_is_timed_before_it_trains(tmp_path):
    result = dsdnas.search(budget=6, out=tmp_path, **EARLY, objectives=("accuracy", "latency"))
    found = [r for r in records(result.study) if r.status in (Status.STOPPED, Status.TRAINED)]  # the evaluated
    assert any(r.status is Status.STOPPED for r in found)
    assert all(r.latency_ms > 0 for r in found)  # stopped ones too: their rung is judged on latency


def test_a_continued_search_keeps_its_rung_records_and_early_stop_cannot_change(tmp_path):
    dsdnas.search(budget=5, out=tmp_path, **EARLY)
    _, study, _ = load_run(tmp_path)
    before = {r.number: r.rung_accuracies for r in records(study) if r.rung_accuracies}
    more = dsdnas.search(budget=7, out=tmp_path, **EARLY)
    after = {r.number: r.rung_accuracies for r in records(more.study) if r.rung_accuracies}
    assert all(after[n] == rungs for n, rungs in before.items())
    assert evaluated_in_study(more.study) == 7
    with pytest.raises(dsdnas.DsdnasError, match=r"\(early_stop\); it ran with --early-stop on; repeat"):
        dsdnas.search(budget=8, out=tmp_path, **{**EARLY, "early_stop": "off"})


def test_early_stopping_is_once_by_default_and_without_a_rung_either_value_continues(tmp_path):
    assert dsdnas.SearchConfig().early_stop == "once"
    first = dsdnas.search(budget=1, out=tmp_path, **FAST)  # 1 epoch: no rung, nothing to stop
    assert first.study.user_attrs["settings"]["early_stop"] == "off"
    more = dsdnas.search(budget=2, out=tmp_path, **{**FAST, "early_stop": "off"})
    assert evaluated_in_study(more.study) == 2


def _early_search(out, budget: int, train_limit: int) -> list[str]:
    """`dsdnas search` as a fresh process, with a rung at epoch 1."""
    return [
        sys.executable, "-m", "dsdnas", "search", "--budget", str(budget), "--out", str(out),
        "--dataset", "mnist-sample", "--space", "dsd-tiny", "--epochs", "3", "--early-stop", "on",
        "--train-limit", str(train_limit), "--device", "cpu", "--quiet",
    ]  # fmt: skip


def _running_at_rung(out, killed: set[int]) -> int | None:
    """A RUNNING trial, after the first three and none of `killed`, that has recorded its accuracy at the rung:
    it is being judged there or trains on past it."""
    try:
        with sqlite3.connect(f"file:{out / 'study.db'}?mode=ro", uri=True, timeout=0.1) as db:
            found = db.execute(
                "SELECT t.number FROM trial_user_attributes a JOIN trials t ON a.trial_id = t.trial_id "
                "WHERE t.number >= 3 AND t.state = 'RUNNING' AND a.key = 'rung_accuracies' AND a.value_json != '{}'"
            ).fetchall()
    except sqlite3.OperationalError:  # not created yet, or locked by the writer for a moment
        return None
    return next((number for (number,) in found if number not in killed), None)


def test_kill_minus_nine_at_a_rung_then_rerun_keeps_the_budget_exact(tmp_path):
    out = tmp_path / "run"
    command = _early_search(out, budget=8, train_limit=1000)
    killed: set[int] = set()  # an earlier try's victim stays RUNNING until the next process recovers it
    for _ in range(5):  # a kill can come just after the verdict (a stop is quick); then try again
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 180
        while (number := _running_at_rung(out, killed)) is None:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        killed.add(number)
        _, study, _ = load_run(out)
        written = (out / "trials" / str(number) / "metrics.json").exists()  # stopped, result on disk: recovered
        if study.trials[number].state == TrialState.RUNNING and not written:
            assert study.trials[number].user_attrs["rung_accuracies"].keys() == {"1"}
            break
    else:
        pytest.fail("five kills in a row came after the rung's verdict")
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    _, study, _ = load_run(out)
    killed = study.trials[number]
    assert killed.state == TrialState.FAIL and "died (process gone)" in killed.user_attrs["reason"]
    assert killed.user_attrs["rung_accuracies"].keys() == {"1"}  # what it recorded before the kill is kept
    assert evaluated_in_study(study) == 8 and evaluated_in_csv(out) == 8
    assert TrialState.RUNNING not in {t.state for t in study.trials}
    assert read_trials_csv(out).set_index("trial").loc[number, "state"] == "FAIL"


def test_two_workers_judge_against_each_others_rungs(tmp_path):
    """The same command in two terminals: one study, the budget met exactly, each judged among both's candidates."""
    out = tmp_path / "run"
    command = _early_search(out, budget=10, train_limit=600)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "run.json").exists():
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.05)
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert first.wait(timeout=300) == 0 and second.returncode == 0, second.stderr
    _, study, _ = load_run(out)
    found = records(study)
    assert evaluated_in_study(study) == 10 and "RUNNING" not in {r.state for r in found}
    at_rung = [r for r in found if "1" in r.rung_accuracies and r.status is not Status.REUSED]
    per_worker = {w: sum(r.worker == w for r in at_rung) for w in {r.worker for r in at_rung}}
    assert len(per_worker) == 2
    # The largest population judged at the rung is more than either worker alone recorded there.
    assert max(r.rung_populations.get("1", 0) for r in found) > max(per_worker.values())


def test_a_study_from_before_rungs_in_steps_continues_only_under_its_whole_epoch_rule(tmp_path):
    dsdnas.search(budget=3, out=tmp_path, **{**EARLY, "early_stop": "epochs"})
    with sqlite3.connect(tmp_path / "study.db") as db:  # as an older dsdnas recorded it: "on" was whole epochs
        (value,) = db.execute("SELECT value_json FROM study_user_attributes WHERE key = 'settings'").fetchone()
        settings = json.loads(value)
        assert settings["early_stop"] == "epochs"
        settings["early_stop"] = "on"
        db.execute("UPDATE study_user_attributes SET value_json = ? WHERE key = 'settings'", (json.dumps(settings),))
    with pytest.raises(dsdnas.DsdnasError, match=r"other settings \(early_stop\)"):
        dsdnas.search(budget=4, out=tmp_path, **EARLY)  # rungs in steps: another rule
    assert evaluated_in_study(dsdnas.search(budget=4, out=tmp_path, **{**EARLY, "early_stop": "epochs"}).study) == 4
