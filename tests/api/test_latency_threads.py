"""--latency-threads: every figure of a command timed on the CPU threads it is given, and saying so.

docs/latency.md (Threads) promises it: on a shared 2-core VM one thread gave figures that repeat
where every core did not, so a user may time on the threads the model will have. These run on
this machine's real cores: each check would read its CPU count (2 in CI) were the option dropped.
"""

import json

import pytest
from typer.testing import CliRunner

import dsdnas
from dsdnas.api import profile
from dsdnas.cli import app
from dsdnas.errors import DsdnasError
from dsdnas.nas.hardware import cpu_count
from dsdnas.nas.search.records import records
from dsdnas.reports import build_report_data
from dsdnas.reports._figures import pareto_figure
from tests.support import FAST, read_trials_csv


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    assert cpu_count() > 1, "one thread must differ from every core here"
    out = tmp_path_factory.mktemp("threads") / "run"
    dsdnas.search(budget=3, out=out, objectives="accuracy,latency", early_stop="off", latency_threads=1, **FAST)
    return out


def test_a_search_times_every_candidate_and_its_front_again_on_the_threads_it_is_given(run):
    _, study, meta = dsdnas.load_run(run)
    timed = [record for record in records(study) if record.latency_ms is not None]
    assert len(timed) == 3 and {record.threads for record in timed} == {1}
    assert set(read_trials_csv(run)["latency_threads"]) == {1}
    end = json.loads((run / "front_latency.json").read_text())
    assert end["threads"] == 1 and {row["threads"] for row in end["trials"].values()} == {1}
    assert meta["latency_threads"] == 1 and meta["settings"]["latency"] == "torch on 1 thread(s)"
    assert "torch on 1 CPU thread(s), batch 1, the median pass" in (run / "report.html").read_text()


def test_model_py_states_the_threads_its_figure_was_timed_on(run, tmp_path):
    pareto = json.loads((run / "pareto.json").read_text())["trials"]
    dsdnas.export(run, trial=pareto[-1]["trial"], out=tmp_path / "shipped")
    line = f"Latency: {pareto[-1]['latency_ms']:.3f} ms (median, batch 1, cpu, torch on 1 CPU thread(s))"
    assert line in (tmp_path / "shipped" / "model.py").read_text()


def test_a_fine_tune_keeps_the_figure_its_search_timed_on_those_threads(run, tmp_path):
    end = json.loads((run / "front_latency.json").read_text())["trials"]
    number = int(next(iter(end)))
    tuned = dsdnas.finetune(run, trial=number, epochs=1, device="cpu", out=tmp_path / "ft")
    assert tuned.metrics["latency_when"] == "at the end of the search"  # the same threads: not timed again
    assert tuned.metrics["latency_ms"] == end[str(number)]["latency_ms"] and tuned.metrics["threads"] == 1
    dsdnas.export(tuned.out_dir, out=tmp_path / "shipped")  # its model.py states them too
    assert "cpu, torch on 1 CPU thread(s))" in (tmp_path / "shipped" / "model.py").read_text()


def test_a_continued_search_on_other_threads_is_refused_before_it_trains(run):
    before = len(dsdnas.load_run(run)[1].trials)
    with pytest.raises(DsdnasError, match=r"was run with other settings \(latency\)"):
        dsdnas.search(budget=4, out=run, objectives="accuracy,latency", early_stop="off", **FAST)
    assert len(dsdnas.load_run(run)[1].trials) == before


def test_profile_baseline_and_export_time_on_the_threads_they_are_given(run, tmp_path):
    arch_file = next(run.glob("trials/*/arch.json"))
    _, report = profile(arch_file, device="cpu", batch_size=4, repeats=5, latency_threads=1)
    assert report["latency_batch1"]["threads"] == report["latency_batch"]["threads"] == 1
    linear = dsdnas.baseline(run, model="linear", epochs=1, device="cpu", latency_threads=1)
    assert linear.metrics["threads"] == 1
    dsdnas.export(run, out=tmp_path / "shipped", latency_threads=1)
    assert "cpu, torch 1 threads; measured at export on" in (tmp_path / "shipped" / "model.py").read_text()


@pytest.mark.parametrize("threads", [0, -1, 10_000])
def test_a_thread_count_this_machine_cannot_give_is_refused_naming_the_option(threads, tmp_path):
    with pytest.raises(DsdnasError, match=f"--latency-threads {threads} must be from 1 to"):
        dsdnas.search(budget=2, out=tmp_path / "run", latency_threads=threads, **FAST)
    assert not (tmp_path / "run").exists()


def test_the_cli_passes_the_option_to_each_command(run, tmp_path):
    arch_file = next(run.glob("trials/*/arch.json"))
    options = ["--repeats", "5", "--latency-threads", "1", "--json"]
    profiled = CliRunner().invoke(app, ["profile", str(arch_file), *options])
    assert profiled.exit_code == 0, profiled.output
    assert json.loads(profiled.output)["latency_batch1"]["threads"] == 1
    refused = CliRunner().invoke(app, ["export", str(run), "--out", str(tmp_path / "x"), "--latency-threads", "0"])
    assert refused.exit_code == 2 and "--latency-threads 0 must be from 1 to" in refused.output
    assert not (tmp_path / "x").exists()


def test_a_baseline_is_timed_on_the_runs_threads_unless_told_and_compared_only_on_the_same(run):
    mlp = dsdnas.baseline(run, model="mlp", hidden=4, epochs=1, device="cpu")  # the run's: 1
    seed = dsdnas.baseline(run, model="seed-cnn", epochs=1, device="cpu", latency_threads=cpu_count())
    assert (mlp.metrics["threads"], seed.metrics["threads"]) == (1, cpu_count())
    _, study, meta = dsdnas.load_run(run)
    data = build_report_data(study, meta, run)
    stars = [name for trace in pareto_figure(data, "latency_ms", "latency_ms").data
             if trace.name == "reference models" for name in trace.text]  # fmt: skip
    assert "mlp-h4" in stars and "seed-cnn" not in stars
