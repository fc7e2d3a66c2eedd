"""--jobs N: worker processes share one study; the budget stays exact; nobody trains while another measures."""

import json
import subprocess
import sys

import pytest

from tests.support import FAST_ARGS, read_trials_csv

pytestmark = pytest.mark.slow


def overlaps(a: dict, b: dict) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def test_two_jobs_meet_the_budget_exactly_and_never_train_while_the_other_measures(tmp_path):
    log = tmp_path / "locks.jsonl"
    out = tmp_path / "run"
    # Latency an objective: each job times every candidate before training it, while the other may be training.
    command = [sys.executable, "-m", "dsdnas", "search", "--budget", "5", "--jobs", "2", "--out", str(out),
               "--objectives", "accuracy,latency", *FAST_ARGS]  # fmt: skip
    env = {**__import__("os").environ, "DSDNAS_LOCK_LOG": str(log)}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    assert "2 jobs of 1 CPU thread(s) each" in result.stdout
    frame = read_trials_csv(out)
    assert frame["status"].isin(["trained", "reused"]).sum() == 5
    assert "RUNNING" not in set(frame["state"])
    windows = [json.loads(line) for line in log.read_text().splitlines()]
    workers = {w["pid"] for w in windows if w["kind"] == "train"}
    assert len(workers) == 2  # both jobs trained
    measures = [w for w in windows if w["kind"] == "measure"]
    trains = [w for w in windows if w["kind"] == "train"]
    trained = int((frame["status"] == "trained").sum())  # a reused candidate is not measured again
    assert trained >= 2 and len(measures) >= trained + 1  # every candidate before it trained, and the front at the end
    for measure in measures:
        clashes = [t for t in trains if t["pid"] != measure["pid"] and overlaps(measure, t)]
        assert clashes == [], (measure, clashes[:3])
    again = json.loads((out / "front_latency.json").read_text())
    front = frame[frame["pareto"]]
    assert {int(n) for n in again["trials"]} == set(front["trial"])
