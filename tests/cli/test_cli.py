"""The CLI through typer's CliRunner: exit codes, one-line errors, wiring."""

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from dsdnas.api.config import ExportConfig, FinetuneConfig, SearchConfig
from dsdnas.cli import app
from tests.support import FAST_ARGS as FAST
from tests.support import read_trials_csv

runner = CliRunner()


@pytest.mark.slow
def test_search_then_trials(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["search", "--budget", "2", "--out", str(out), *FAST])
    assert result.exit_code == 0, result.output
    assert "budget met: 2 evaluated trials" in result.output and "Pareto front" in result.output
    again = runner.invoke(app, ["search", "--budget", "2", "--out", str(out), *FAST])
    assert again.exit_code == 0 and "budget met" in again.output
    listed = runner.invoke(app, ["trials", str(out), "--pareto"])
    assert listed.exit_code == 0
    # Every trial on one row at 80 columns (CliRunner's width), its status whole (it was a letter a line).
    every = runner.invoke(app, ["trials", str(out)]).output.splitlines()
    assert max(map(len, every)) <= 80
    for row in read_trials_csv(out).itertuples():
        assert len([line for line in every if re.match(rf"^│\s*{row.trial} │{row.status}\s+│", line)]) == 1, every
    both = runner.invoke(app, ["trials", str(out), "--pareto", "--baselines"])
    assert both.exit_code == 2 and "--pareto and --baselines are two views of a run: pass one" in both.output
    front = read_trials_csv(out).query("pareto")
    listed_trials = [int(n) for n in re.findall(r"^trial (\d+): ", listed.output, flags=re.M)]
    assert sorted(listed_trials) == sorted(front["trial"]) and "best" in listed.output
    tuned = runner.invoke(app, ["finetune", str(out), "--trial", str(front["trial"].iloc[0]), "--epochs", "1",
                                "--device", "cpu"])  # fmt: skip
    assert tuned.exit_code == 0, tuned.output
    resumed = runner.invoke(app, ["search", "--budget", "2", "--out", str(out), *FAST])
    first = front["trial"].iloc[0]  # at 80 columns the fine-tune's figure follows its notation, under the table
    line = re.compile(rf"trial {first}: [^|]* \| fine-tuned test accuracy \d+\.\d\d% \[[\d.]+, [\d.]+\]")
    # Rich wraps at a space, which the wrap takes: lines joined with one, whichever words met the edge.
    assert resumed.exit_code == 0 and line.search(" ".join(resumed.output.split()))
    assert line.search(" ".join(runner.invoke(app, ["trials", str(out), "--pareto"]).output.split()))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "--budget", "soon"], "--budget 'soon'"),
        (["search", "--budget", "1", "--dataset", "cifar-100"], "unknown dataset 'cifar-100'"),
        (["search", "--budget", "1", "--space", "nope"], "unknown search space 'nope'"),
        (["search", "--budget", "1", "--device", "tpu"], "--device 'tpu'"),
        (["search", "--budget", "1", "--max-macs", "-5"], "--max-macs -5 must be a positive number"),
        (["search", "--budget", "1", "--max-latency-ms", "0"], "--max-latency-ms 0 must be a positive number"),
        (["search", "--budget", "1", "--val-fraction", "0"], "--val-fraction 0.0 must be in (0, 1)"),
        (["search", "--budget", "1", "--epochs", "0"], "--epochs 0 must be at least 1"),
        (["search", "--budget", "1", "--objectives", "accuracy,speed"], "--objectives accuracy,speed"),
        (["trials", "/no/such/run"], "not a dsdnas run directory"),
        (["blocks", "-k", "4"], "--kernel 4"),
        (["export", "/no/such/run", "--name", "Path"], "--name 'Path' is already used inside model.py"),
        (["export", "/no/such/run", "--format", "tflite"], "--format tflite"),
        (["finetune", "/no/such/run", "--init", "imagenet"], "--init 'imagenet'"),
        (["finetune", "/no/such/run", "--pick", "fastest"], "--pick 'fastest'"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(args, message, tmp_path):
    result = runner.invoke(app, [*args, "--out", str(tmp_path)] if args[0] == "search" else args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_blocks_ratio_matches_the_formula():
    result = runner.invoke(
        app, ["blocks", "--in", "32", "--out", "64", "-k", "3", "-d", "2", "--size", "56", "--device", "cpu", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    ratio = rows["separable"]["conv_params"] / rows["standard"]["conv_params"]
    assert ratio == pytest.approx((9 * 32 + 32 * 64) / (9 * 32 * 64))
    assert rows["separable d2"]["macs"] == rows["separable"]["macs"]  # dilation is free...
    assert rows["separable d2"]["receptive_field"] == 5 > rows["separable"]["receptive_field"]  # ...and sees more
    table = runner.invoke(
        app, ["blocks", "--in", "32", "--out", "64", "-k", "3", "-d", "2", "--size", "56", "--device", "cpu"]
    )
    assert table.exit_code == 0 and "0.127" in table.output and "x std" in table.output


def test_spaces_lists_builtins_with_sizes():
    result = runner.invoke(app, ["spaces", "--json"])
    assert result.exit_code == 0
    spaces = {s["name"]: s for s in json.loads(result.output)}
    assert set(spaces) == {"dsd-tiny", "dsd-micro", "dsd-range", "dsd-mnist", "dsd-wide"}
    assert spaces["dsd-range"]["choices"]["head kind"] == ["gap", "flatten", "pool"]
    assert spaces["dsd-tiny"]["size"] == 272
    assert spaces["dsd-micro"]["min_macs"] == 9644 and spaces["dsd-micro"]["max_macs"] > 100 * 9644
    assert spaces["dsd-mnist"]["choices"]["dilation"] == [1, 2, 3, 4]


def test_profile_prints_table_and_json(tmp_path, small_arch):
    path = tmp_path / "arch.json"
    path.write_text(small_arch.to_json())
    result = runner.invoke(
        app, ["profile", str(path), "--device", "cpu", "--json", "--repeats", "3", "--batch-size", "4"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["macs"] > 0 and report["receptive_field"] == small_arch.receptive_field()
    assert report["latency_batch1"]["p50_ms"] > 0 and report["latency_batch"]["batch_size"] == 4
    table = runner.invoke(app, ["profile", str(path), "--device", "cpu", "--repeats", "3"])
    assert "receptive field" in table.output and "MACs" in table.output
    other = ["profile", str(path), "--device", "cpu", "--json", "--repeats", "3", "--latency-runtime", "onnxruntime"]
    assert json.loads(runner.invoke(app, other).output)["latency_batch1"]["runtime"] == "onnxruntime"


@pytest.mark.slow
def test_python_dash_m_works():
    result = subprocess.run([sys.executable, "-m", "dsdnas", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "search" in result.stdout


@pytest.mark.slow
def test_kill_minus_nine_then_rerun_keeps_finished_trials(tmp_path):
    out = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "dsdnas",
        "search",
        "--budget",
        "3",
        "--out",
        str(out),
        *FAST[:-3],
        "--train-limit",
        "2000",
        "--epochs",
        "2",
        "--early-stop",
        "off",  # every trial trains to the end
        "--quiet",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    # Wait until trial 0 is finished and trial 1 has begun, then kill mid-trial.
    while not ((out / "trials" / "0" / "metrics.json").exists() and (out / "trials" / "1" / "arch.json").exists()):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = json.loads((out / "trials" / "0" / "metrics.json").read_text())
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "retrying trial(s) [1]" in rerun.stdout
    frame = read_trials_csv(out)
    assert "RUNNING" not in set(frame["state"])
    assert (frame["status"].isin(["trained", "reused"])).sum() == 3
    assert frame.loc[frame["trial"] == 0, "accuracy"].item() == pytest.approx(before["val_accuracy"])


@pytest.mark.slow
def test_report_finetune_and_export_commands(tmp_path):
    out = tmp_path / "run"
    assert runner.invoke(app, ["search", "--budget", "2", "--out", str(out), *FAST]).exit_code == 0
    report = runner.invoke(app, ["report", str(out), "--out", str(tmp_path / "r.html")])
    assert report.exit_code == 0 and "works offline" in report.output
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    tuned = runner.invoke(app, ["finetune", str(out), "--pick", "best", "--epochs", "1", "--device", "cpu"])
    assert tuned.exit_code == 0, tuned.output
    assert "test accuracy" in tuned.output
    exported = runner.invoke(app, ["export", str(out), "--pick", "best", "--finetuned", "--out", str(tmp_path / "x")])
    assert exported.exit_code == 0, exported.output
    assert "max |logit difference|" in exported.output
    assert (tmp_path / "x" / "model.py").exists() and (tmp_path / "x" / "weights.safetensors").exists()
    tuned_trial = int(tuned.output.split("trial ")[1].split()[0])
    other = 1 - tuned_trial  # the search ran trials 0 and 1
    missing = runner.invoke(app, ["export", str(out), "--trial", str(other), "--finetuned"])
    assert missing.exit_code == 2 and f"trial {other} has not been fine-tuned" in missing.output


@pytest.mark.slow
def test_no_dataset_falls_back_to_the_bundled_sample_offline(tmp_path):
    args = ["search", "--budget", "1", "--space", "dsd-tiny", "--epochs", "1", "--device", "cpu"]
    result = runner.invoke(app, [*args, "--train-limit", "600", "--quiet", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "DSDNAS_OFFLINE=1" in result.output and "using the bundled mnist-sample" in result.output
    assert json.loads((tmp_path / "run.json").read_text())["settings"]["dataset"] == "mnist-sample"


@pytest.mark.parametrize(
    ("command", "config"), [("search", SearchConfig), ("finetune", FinetuneConfig), ("export", ExportConfig)]
)
def test_every_config_field_is_a_command_option_and_the_defaults_agree(command, config):
    import typer.main

    click_command = typer.main.get_command(app).commands[command]
    params = {p.name: p for p in click_command.params}
    for field in dataclasses.fields(config):
        assert field.name in params, f"{config.__name__}.{field.name} has no option in dsdnas {command}"
        default = getattr(config(), field.name)
        shown = params[field.name].default
        if isinstance(default, tuple):
            default = ",".join(default)
        assert shown == default or str(shown) == str(default), (field.name, shown, default)


def test_version():
    import dsdnas

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"dsdnas {dsdnas.__version__}"


def test_help_reads_plainly_and_usage_names_the_run_as_people_write_it():
    main = runner.invoke(app, ["--help"])
    assert "--version  Print the version and exit." in main.output and "<bool>" not in main.output
    report = runner.invoke(app, ["report", "--help"])
    assert "Usage: dsdnas report [OPTIONS] RUN" in report.output and "{" not in report.output
    assert "farthest from the line" in runner.invoke(app, ["export", "--help"]).output  # --pick's knee


def test_the_blocks_table_fits_80_columns_without_cutting_a_header():
    result = runner.invoke(app, ["blocks", "--in", "8", "--out", "8", "--size", "8", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "…" not in result.output and max(len(line) for line in result.output.splitlines()) <= 80
    assert "RF" in result.output and "receptive field" in result.output


def test_a_mistyped_run_names_the_closest_run_directory(tmp_path):
    (tmp_path / "runs" / "demo").mkdir(parents=True)
    (tmp_path / "runs" / "demo" / "run.json").write_text("{}")
    result = runner.invoke(app, ["trials", str(tmp_path / "runs" / "dmeo")])
    assert result.exit_code == 2
    assert f"did you mean {tmp_path / 'runs' / 'demo'}?" in result.output
