"""End-to-end searches on tiny real data: budget, resume, limits, duplicates, recovery."""

import datetime
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from importlib import resources

import optuna
import pytest
from optuna.trial import TrialState

import dsdnas
from dsdnas.api import load_run
from dsdnas.api.events import SearchObserver
from dsdnas.errors import RunError
from dsdnas.search_spaces import get_space
from tests.support import FAST, read_trials_csv

pytestmark = pytest.mark.slow  # every test here runs a real search


def test_two_trial_search_writes_the_run_directory(tmp_path):
    result = dsdnas.search(budget=2, out=tmp_path, **FAST)
    assert "budget met" in result.stop_reason
    frame = read_trials_csv(tmp_path)
    for column in (
        "trial",
        "state",
        "accuracy",
        "macs",
        "params",
        "latency_ms",
        "pareto",
        "notation",
        "arch_hash",
        "duration_s",
    ):
        assert column in frame.columns
    assert list(frame["state"]) == ["COMPLETE", "COMPLETE"]
    assert frame["pareto"].any()
    for number in (0, 1):
        folder = tmp_path / "trials" / str(number)
        assert {p.name for p in folder.iterdir()} == {"arch.json", "metrics.json", "weights.safetensors"}
        metrics = json.loads((folder / "metrics.json").read_text())
        assert metrics["status"] == "trained" and len(metrics["val_accuracy_history"]) == 1
        # Latency ranks nothing here: no candidate is timed while the search trains, each trained one at its end.
        assert metrics["macs"] > 0 and metrics.get("latency_ms") is None and metrics["device"] == "cpu"
    assert (frame["latency_ms"] > 0).all() and set(frame["latency_when"]) == {"at the end"}
    pareto = json.loads((tmp_path / "pareto.json").read_text())
    assert pareto["objectives"] == ["accuracy", "macs"] and pareto["trials"]
    run_dir, study, meta = load_run(tmp_path)
    assert meta["settings"]["dataset"] == "mnist-sample" and len(study.trials) == 2
    # A new study tries the space's cheapest candidate first, so the front reaches the cheap end.
    assert study.trials[0].user_attrs["macs"] == get_space("dsd-tiny").cost_bounds((1, 28, 28), 10).min_macs


@pytest.mark.parametrize("sampler", ["nsga2", "random"])
def test_other_samplers_and_three_objectives(tmp_path, sampler):
    result = dsdnas.search(budget=2, out=tmp_path, sampler=sampler, objectives="latency,accuracy,params", **FAST)
    assert result.study.user_attrs["settings"]["objectives"] == ["accuracy", "latency", "params"]
    assert [d.name for d in result.study.directions] == ["MAXIMIZE", "MINIMIZE", "MINIMIZE"]
    assert len(result.study.trials[0].values) == 3
    assert 'id="scatter-matrix"' in (tmp_path / "report.html").read_text()


def test_a_search_whose_start_up_synflow_picks_trains_other_candidates_than_the_random_start_up(tmp_path):
    picked = dsdnas.search(budget=4, out=tmp_path / "picked", sampler="tpe+mutate+synflow", **FAST)
    drawn = dsdnas.search(budget=4, out=tmp_path / "drawn", sampler="tpe+mutate", **FAST)
    assert picked.study.user_attrs["sampler"] == "tpe+mutate+synflow"
    assert picked.study.trials[0].params == drawn.study.trials[0].params  # the space's cheapest, enqueued first
    assert [t.params for t in picked.study.trials[1:]] != [t.params for t in drawn.study.trials[1:]]
    # No pick is a candidate already evaluated: in dsd-tiny the cheapest scored best, and was picked again (reused).
    assert [t.user_attrs["status"] for t in picked.study.trials] == ["trained"] * 4


def test_rerun_meets_budget_and_larger_budget_adds_exactly_the_rest(tmp_path):
    dsdnas.search(budget=2, out=tmp_path, **FAST)
    again = dsdnas.search(budget=2, out=tmp_path, **FAST)
    assert "budget met: 2" in again.stop_reason and len(again.study.trials) == 2
    more = dsdnas.search(budget=3, out=tmp_path, **FAST)
    assert len([t for t in more.study.trials if t.state == TrialState.COMPLETE]) == 3


CHANGES = [  # one of each kind of setting, and the names the refusal must give, all of them and in this order
    ({"epochs": 2}, "train.epochs"),
    ({"batch_size": 32}, "train.batch_size"),
    ({"dataset": "npz:{copy}"}, "dataset"),  # the same images from another file
    ({"space": "dsd-mnist"}, "space, space_choices"),
    ({"objectives": "accuracy,params"}, "objectives"),
    ({"max_macs": 1e6}, "limits.max_macs"),
    ({"train_limit": 700}, "mean, std, train_limit"),  # other images: their statistics change too
    ({"seed": 1}, "mean, seed, std"),  # the seed carves the validation split
    ({"val_fraction": 0.2}, "mean, std, val_fraction"),
]


def test_each_kind_of_changed_setting_is_refused_by_its_dotted_name(tmp_path):
    copy = tmp_path / "sample.npz"
    shutil.copy(resources.files("dsdnas") / "data" / "mnist_sample.npz", copy)
    run = tmp_path / "run"
    # Early stopping off throughout: more steps (2 epochs, batch 32) would add rungs, and early_stop would differ too.
    fast = {**FAST, "early_stop": "off"}
    dsdnas.search(budget=1, out=run, study="same", **fast)  # named: a changed dataset or space keeps the name
    before = (run / "study.db").read_bytes(), (run / "trials.csv").read_bytes()
    for change, names in CHANGES:
        change = {key: str(value).format(copy=copy) if key == "dataset" else value for key, value in change.items()}
        with pytest.raises(RunError, match=rf"other settings \({re.escape(names)}\);"):
            dsdnas.search(budget=2, out=run, study="same", **{**fast, **change})
    assert ((run / "study.db").read_bytes(), (run / "trials.csv").read_bytes()) == before


def test_candidates_over_the_limit_are_never_trained(tmp_path):
    # The limit is dsd-tiny's cheapest candidate on 1x28x28 (95,808 MACs): a lower one is refused at once.
    result = dsdnas.search(budget="3s", out=tmp_path, max_macs=95_808, **FAST)
    trials = result.study.trials
    skipped = [t for t in trials if t.user_attrs["status"] == "skipped"]
    assert skipped and all("over --max-macs" in t.user_attrs["reason"] for t in skipped)
    assert all(t.system_attrs["constraints:macs"] > 0 for t in skipped)
    assert not any((tmp_path / "trials" / str(t.number) / "weights.safetensors").exists() for t in skipped)
    # The cheapest MACs (two dilations cost the same) train; infeasible trials never reach the front.
    within = {t.user_attrs["status"] for t in trials if t.user_attrs["macs"] <= 95_808}
    assert within and within <= {"trained", "reused"}
    assert result.front and {member["macs"] for member in result.front} == {95_808}


def test_duplicate_architecture_is_reused_not_retrained(tmp_path):
    space = tmp_path / "two.toml"
    space.write_text(
        'name = "two"\n[stem]\nchannels = [8]\n[stages]\ncount = [1]\nblocks = [1]\nwidths = [[8]]\nstrides = [2]\n'
        '[block]\nkind = ["standard", "separable"]\nkernel = [3]\ndilation = [1]\n'
    )
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(storage=storage, study_name="dup", directions=["maximize", "minimize"])
    study.enqueue_trial({"s0.b0.kind": "standard"})
    study.enqueue_trial({"s0.b0.kind": "standard"})
    result = dsdnas.search(
        budget=2, out=tmp_path / "run", storage=storage, study="dup", **{**FAST, "space": str(space)}
    )
    first, second = result.study.trials
    assert first.user_attrs["status"] == "trained" and second.user_attrs["status"] == "reused"
    assert second.user_attrs["reused_from"] == 0 and second.values == first.values
    assert not (tmp_path / "run" / "trials" / "1" / "weights.safetensors").exists()
    assert [row["trial"] for row in result.front] == [0]


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")  # study.ask() stands in for a worker
def test_trial_left_running_by_a_dead_process_is_failed_and_retried(tmp_path):
    dsdnas.search(budget=1, out=tmp_path, **FAST)
    _, study, _ = load_run(tmp_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    trial = study.ask()
    trial.suggest_categorical("stages", [1, 2])
    trial.set_user_attr("worker", f"{socket.gethostname()}:{dead.pid}")
    result = dsdnas.search(budget=2, out=tmp_path, **FAST)
    states = [t.state for t in result.study.trials]
    assert TrialState.RUNNING not in states
    assert states[1] == TrialState.FAIL
    assert sum(s == TrialState.COMPLETE for s in states) == 2


class GivesUpWaiting(SearchObserver):
    """Stops the search the moment it would wait for another worker's trial."""

    def __init__(self) -> None:
        self.waits: list[tuple[int, int]] = []

    def waiting(self, running: int, finished: int) -> None:
        self.waits.append((running, finished))

    def should_stop(self) -> str | None:
        return "waited" if self.waits else None


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")  # study.ask() stands in for a worker
def test_a_trial_whose_worker_died_before_naming_itself_leaves_the_budget(tmp_path):
    dsdnas.search(budget=1, out=tmp_path, **FAST)
    _, study, _ = load_run(tmp_path)
    study.ask()  # a worker killed just after creating its trial: no name, no candidate, no heartbeat
    observer = GivesUpWaiting()
    result = dsdnas.search(budget=2, out=tmp_path, observer=observer, **FAST)
    assert observer.waits == []  # it held no place in the budget
    assert "budget met" in result.stop_reason
    assert [t.state for t in result.study.trials] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE]
    assert "died as it created the trial" in result.study.trials[1].user_attrs["reason"]


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")  # study.ask() stands in for a worker
def test_an_orphaned_trial_of_an_enqueued_candidate_is_retried_with_it(tmp_path):
    dsdnas.search(budget=1, out=tmp_path, **FAST)
    _, study, _ = load_run(tmp_path)
    study.enqueue_trial(study.trials[0].params)  # as the study's first candidates are
    study.ask()  # popped by a worker killed before it named itself
    result = dsdnas.search(budget=2, out=tmp_path, **FAST)
    first, orphan, retry = result.study.trials
    assert orphan.state == TrialState.FAIL and retry.params == first.params
    assert retry.user_attrs["status"] == "reused" and retry.user_attrs["reused_from"] == 0


class WaitRecorder(SearchObserver):
    """Records waits and finished trials; when told to wait, fails the other worker's trial."""

    def __init__(self, study: optuna.Study, held: optuna.Trial) -> None:
        self.study, self.held = study, held
        self.waits: list[tuple[int, int]] = []
        self.finished: list[int] = []

    def waiting(self, running: int, finished: int) -> None:
        self.waits.append((running, finished))
        self.study.tell(self.held, state=TrialState.FAIL)  # the other worker gives up: room again

    def trial_finished(self, number, row, front, finished) -> None:
        self.finished.append(number)


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")  # study.ask() stands in for a worker
def test_a_trial_running_in_another_live_worker_is_waited_for_not_overshot(tmp_path):
    dsdnas.search(budget=1, out=tmp_path, **FAST)
    _, study, _ = load_run(tmp_path)
    held = study.ask()  # another worker's trial, alive (this very process), that will fail
    held.suggest_categorical("stages", [1, 2])
    held.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
    recorder = WaitRecorder(study, held)
    result = dsdnas.search(budget=2, out=tmp_path, observer=recorder, **FAST)
    assert recorder.waits == [(1, 1)]
    trials = result.study.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE]
    assert trials[2].datetime_start >= trials[1].datetime_complete  # started only once room was left
    assert recorder.finished == [1, 2]  # the other worker's trial is reported too


def test_settings_equal_to_rounding_continue_the_study(tmp_path):
    dsdnas.search(budget=1, out=tmp_path, **FAST)
    _, study, _ = load_run(tmp_path)
    settings = study.user_attrs["settings"]
    for mean, accepted in ((settings["mean"][0] * (1 + 1e-14), True), (settings["mean"][0] * 1.001, False)):
        study.set_user_attr("settings", {**settings, "mean": [mean]})  # as an older version might have stored
        if accepted:
            assert "budget met" in dsdnas.search(budget=1, out=tmp_path, **FAST).stop_reason
        else:
            with pytest.raises(RunError, match=r"other settings \(mean\)"):
                dsdnas.search(budget=1, out=tmp_path, **FAST)


def test_time_budget_starts_no_trial_after_the_limit(tmp_path):
    started = datetime.datetime.now()
    result = dsdnas.search(budget="2s", out=tmp_path, **FAST)
    assert "time budget" in result.stop_reason
    assert result.study.trials
    for trial in result.study.trials:
        # Checked before each start; 0.5 s covers the gap from the check to the new trial on a loaded machine.
        assert (trial.datetime_start - started).total_seconds() < 2.5


def test_run_json_records_the_machine_and_the_front_is_measured_again_together(tmp_path):
    dsdnas.search(budget=2, out=tmp_path, **FAST)
    meta = json.loads((tmp_path / "run.json").read_text())
    machine = meta["machine"]
    assert machine["cpus"] >= 1 and machine["cpu"] and machine["versions"]["dsdnas"] == dsdnas.__version__
    assert set(machine["versions"]) >= {"torch", "torchvision", "optuna"}
    again = json.loads((tmp_path / "front_latency.json").read_text())
    pareto = json.loads((tmp_path / "pareto.json").read_text())["trials"]
    assert {int(n) for n in again["trials"]} >= {row["trial"] for row in pareto}  # and every other trained one
    for row in pareto:
        assert row["latency_ms"] == again["trials"][str(row["trial"])]["latency_ms"] > 0
        assert row["accuracy_low"] <= row["accuracy"] <= row["accuracy_high"] and row["val_size"] == 60
    frame = read_trials_csv(tmp_path)
    assert {"accuracy_low", "accuracy_high", "val_size", "latency_p10_ms", "latency_noisy"} <= set(frame.columns)


def test_a_mutating_search_records_each_mutation_with_its_parent_in_the_study_csv_and_files(tmp_path):
    # Seed 1 draws mutations for 3 of the 6 trials after TPE's 10 start-up ones (a share of 5/10 to 5/15 each).
    result = dsdnas.search(budget=16, out=tmp_path, sampler="tpe+mutate", **{**FAST, "seed": 1})
    frame = read_trials_csv(tmp_path).set_index("trial")
    mutated = frame[frame["mutation_of"].notna()]
    assert len(mutated) == 3
    trials = {t.number: t for t in result.study.trials}
    for number, parent in mutated["mutation_of"].astype(int).items():
        assert parent < number and trials[parent].user_attrs["status"] == "trained"  # a front member then
        changed = trials[number].user_attrs["mutated"]
        differing = {k for k in trials[parent].params.keys() & trials[number].params.keys()
                     if trials[parent].params[k] != trials[number].params[k]}  # fmt: skip
        assert differing == {changed}
        metrics = tmp_path / "trials" / str(number) / "metrics.json"
        if metrics.exists():
            assert json.loads(metrics.read_text())["mutation_of"] == parent
