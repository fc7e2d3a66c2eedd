"""One latency figure per model: timed once, at the end of the search, while nothing trains.

docs/latency.md and docs/measurement.md promise it: a search with latency neither an
objective nor a limit times no candidate while it trains, then every model it trained, back
to back; a search that times every candidate times its front again; and each model shows that
one figure in trials.csv, pareto.json, the report, model.py and its fine-tune. The windows
are read from the quiet lock's own log (DSDNAS_LOCK_LOG), the figures from the files.
"""

import json

import numpy as np
import pytest
import torch

import dsdnas
from dsdnas.nas.model.arch import Arch
from dsdnas.nas.runs.rundir import RunDir
from dsdnas.nas.search.end_latency import end_latencies, finetune_latency
from dsdnas.nas.search.records import records
from dsdnas.nas.search.shipped import finetuned_members
from dsdnas.reports import build_report_data
from tests.support import FAST, read_trials_csv


def _windows(log) -> tuple[list[dict], list[dict]]:
    windows = [json.loads(line) for line in log.read_text().splitlines()]
    return [w for w in windows if w["kind"] == "train"], [w for w in windows if w["kind"] == "measure"]


@pytest.fixture
def lock_log(tmp_path, monkeypatch):
    log = tmp_path / "locks.jsonl"
    monkeypatch.setenv("DSDNAS_LOCK_LOG", str(log))
    return log


def test_a_search_that_ranks_no_latency_times_each_trained_model_once_after_all_training(tmp_path, lock_log):
    run = tmp_path / "run"
    result = dsdnas.search(budget=4, out=run, early_stop="off", **FAST)
    trains, measures = _windows(lock_log)
    assert len(measures) == 1 and measures[0]["start"] >= max(w["end"] for w in trains)  # one window, at the end
    assert all(record.latency_ms is None for record in records(result.study))  # the search itself timed none
    end = json.loads((run / "front_latency.json").read_text())["trials"]
    frame = read_trials_csv(run)
    trained = frame[frame["status"] == "trained"]
    assert len(trained) >= 2 and set(end) == {str(number) for number in trained["trial"]}
    for row in trained.itertuples():
        assert row.latency_ms == end[str(row.trial)]["latency_ms"] > 0 and row.latency_when == "at the end"
        assert end[str(row.trial)]["search_latency_ms"] is None
    pareto = json.loads((run / "pareto.json").read_text())["trials"]
    assert [row["latency_ms"] for row in pareto] == [end[str(row["trial"])]["latency_ms"] for row in pareto]
    data = build_report_data(result.study, {}, run)
    for point in data.points.itertuples():
        assert (
            point.latency_ms == end[str(point.trial)]["latency_ms"] and point.latency_when == "timed at the end, torch"
        )
    # The block tables read the same figures: every block of a trained model has its model's latency.
    blocks = data.block_stats["raw"]
    trained_archs = [Arch.from_dict(r.arch) for r in records(result.study) if r.number in set(trained["trial"])]
    assert len(blocks) == sum(len(arch.blocks) for arch in trained_archs) > 0
    trusted = blocks[~blocks["noisy"]]  # a figure timed on a busy machine is left out of the medians
    assert trusted["latency_ms"].notna().all() and set(trusted["latency_ms"]) <= {r["latency_ms"] for r in end.values()}
    best = pareto[-1]["trial"] if pareto else None
    dsdnas.export(run, trial=best, out=tmp_path / "shipped")
    assert f"Latency: {end[str(best)]['latency_ms']:.3f} ms" in (tmp_path / "shipped" / "model.py").read_text()


def test_a_continued_search_keeps_the_figures_an_earlier_end_timed_and_times_the_front_again(tmp_path, lock_log):
    run = tmp_path / "run"
    dsdnas.search(budget=4, out=run, early_stop="off", **FAST)
    first = json.loads((run / "front_latency.json").read_text())["trials"]
    result = dsdnas.search(budget=6, out=run, early_stop="off", **FAST)
    again = json.loads((run / "front_latency.json").read_text())["trials"]
    front = {str(row["trial"]) for row in json.loads((run / "pareto.json").read_text())["trials"]}
    trained = {str(record.number) for record in records(result.study) if record.trained}
    assert set(again) == trained  # every trained model has its one figure
    for number in set(first) - front:  # off the front: kept as the first end timed it, not timed again
        assert again[number] == first[number]
    for number in front:
        assert again[number]["measured"] >= max(row["measured"] for row in first.values())


def test_a_search_that_times_every_candidate_shows_its_front_as_timed_again_at_the_end(tmp_path, lock_log):
    run = tmp_path / "run"
    result = dsdnas.search(budget=4, out=run, early_stop="off", objectives="accuracy,latency", **FAST)
    trains, measures = _windows(lock_log)
    assert len(measures) == 5 and measures[-1]["start"] >= max(w["end"] for w in trains)  # each trial's, the end's
    searched = {record.number: record.latency_ms for record in records(result.study)}
    end = json.loads((run / "front_latency.json").read_text())["trials"]
    frame = read_trials_csv(run).set_index("trial")
    for number, row in frame.iterrows():
        if str(number) in end:  # a front member: the end's figure, the search's beside it in front_latency.json
            assert row["latency_ms"] == end[str(number)]["latency_ms"] and row["latency_when"] == "at the end"
            assert end[str(number)]["search_latency_ms"] == searched[number]
        else:
            assert row["latency_ms"] == searched[number] and row["latency_when"] == "during the search"
    for row in json.loads((run / "pareto.json").read_text())["trials"]:
        assert row["search_latency_ms"] == searched[row["trial"]] == result.study.trials[row["trial"]].values[1]


def test_a_fine_tune_shows_the_figure_its_search_timed_and_a_transfer_is_timed_anew(tmp_path, lock_log, mnist_sample):
    run = tmp_path / "run"
    dsdnas.search(budget=3, out=run, early_stop="off", **FAST)
    end = json.loads((run / "front_latency.json").read_text())["trials"]
    number = int(next(iter(end)))
    measured_before = len(_windows(lock_log)[1])
    tuned = dsdnas.finetune(run, trial=number, epochs=1, device="cpu", out=tmp_path / "ft")
    assert len(_windows(lock_log)[1]) == measured_before  # the same model on the same machine: not timed again
    assert tuned.metrics["latency_ms"] == end[str(number)]["latency_ms"]
    assert tuned.metrics["latency_when"] == "at the end of the search"
    picked = torch.randperm(len(mnist_sample.y_train), generator=torch.Generator().manual_seed(0))[:300]
    images, labels = mnist_sample.x_train[picked, 0].numpy(), mnist_sample.y_train[picked].numpy()
    np.savez(tmp_path / "new.npz", x_train=images[:240], y_train=labels[:240], x_test=images[240:], y_test=labels[240:])
    moved = dsdnas.finetune(run, trial=number, epochs=1, device="cpu", dataset=f"npz:{tmp_path / 'new.npz'}")
    assert len(_windows(lock_log)[1]) == measured_before + 1 and moved.metrics["latency_when"] == "when fine-tuned"


def test_model_py_names_the_device_the_end_timed_on_not_the_one_that_trained(tmp_path):
    run = tmp_path / "run"
    dsdnas.search(budget=2, out=run, early_stop="off", **FAST)
    path = run / "front_latency.json"
    data = json.loads(path.read_text())
    number, row = next(iter(data["trials"].items()))
    assert row["latency_device"] == data["device"] == "cpu"  # each figure names where it was timed
    # As a run whose end ran on another machine's GPU leaves it: trained here on the CPU, timed there.
    data["device"] = "cuda:0"
    for timed in data["trials"].values():
        timed["latency_device"] = "cuda:0"
    path.write_text(json.dumps(data))
    assert read_trials_csv(run).set_index("trial").loc[int(number), "device"] == "cpu"
    dsdnas.export(run, trial=int(number), out=tmp_path / "shipped")
    assert (
        f"Latency: {row['latency_ms']:.3f} ms (median, batch 1, cuda:0, torch)"
        in (tmp_path / "shipped" / "model.py").read_text()
    )


def test_a_fine_tune_shows_its_runs_figure_after_a_continued_search_timed_the_model_again(tmp_path):
    run = tmp_path / "run"
    dsdnas.search(budget=2, out=run, early_stop="off", **FAST)
    path = run / "front_latency.json"
    data = json.loads(path.read_text())
    number = int(next(iter(data["trials"])))
    tuned = dsdnas.finetune(run, trial=number, epochs=1, device="cpu")  # into RUN/finetune/<n>
    first = data["trials"][str(number)]["latency_ms"]
    assert tuned.metrics["latency_ms"] == first
    # As a continued search leaves it when its end times this model again, on another machine's GPU.
    data["trials"][str(number)].update(latency_ms=first * 3, latency_p90_ms=first * 4, latency_device="cuda:0")
    path.write_text(json.dumps(data))
    assert [member.latency_ms for member in finetuned_members(RunDir(run))] == [first * 3]
    shown = f"Latency: {first * 3:.3f} ms (median, batch 1, cuda:0, torch)"
    dsdnas.export(run, trial=number, out=tmp_path / "through-run")  # ships the fine-tune
    dsdnas.export(tuned.out_dir, out=tmp_path / "from-folder")
    for out in ("through-run", "from-folder"):
        assert shown in (tmp_path / out / "model.py").read_text()
    assert json.loads((tuned.out_dir / "metrics.json").read_text())["latency_ms"] == first  # its own file untouched
    timed_anew = {"trial": number, "latency_ms": 9.0, "latency_when": "when fine-tuned"}  # a transfer's: another model
    assert finetune_latency(timed_anew, end_latencies(RunDir(run))) == {}
