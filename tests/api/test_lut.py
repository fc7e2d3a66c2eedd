"""`dsdnas lut` and `dsdnas search --latency-lut`: a table made once, extended after an interruption,
checked against whole candidates, and a search that times nothing and says whose latencies it shows."""

import html
import json
import math
import shutil
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from dsdnas.api import LutConfig, lut
from dsdnas.cli import app
from dsdnas.nas.hardware import cpu_count
from dsdnas.nas.lut import LutError, load_table
from dsdnas.nas.model.layers import arch_layers
from dsdnas.search_spaces import read_space_file, sample_archs, space_layers
from tests.support import read_trials_csv

# Seven layers: one stem, two blocks (dilation 1 or 2) in each of two stages, two heads.
SPACE = """
name = "lut-test"
[stem]
channels = [8]
[stages]
count = [1, 2]
blocks = [1]
widths = [[8], [16]]
strides = [2, 2]
[block]
kind = ["standard"]
kernel = [3]
dilation = [1, 2]
residual = [false]
[head]
dropout = [0.0]
"""
SEARCH = ["--dataset", "mnist-sample", "--epochs", "1", "--train-limit", "600", "--device", "cpu", "--quiet"]


@pytest.fixture
def space_file(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text(SPACE)
    return path


@pytest.fixture(scope="module")
def made_table(tmp_path_factory):
    """A table of SPACE, made once for the module (12-24 s here): each test changes its own copy."""
    folder = tmp_path_factory.mktemp("lut")
    (folder / "space.toml").write_text(SPACE)
    lut(spaces=(str(folder / "space.toml"),), out=folder / "lut.json", calibrate=2, device="cpu")
    return folder / "lut.json"


@pytest.fixture
def table_file(tmp_path, space_file, made_table):
    out = tmp_path / "lut.json"
    shutil.copyfile(made_table, out)
    return out


def _layer_keys(arch: dict) -> list[str]:
    """This space's layer names, written out: every conv is 3x3, padded, with relu; each block halves the map."""
    stem, size, channels = arch["stem"], 28, arch["stem"]["channels"]
    keys = [f"stem_k3_c{channels}_s1_relu@1x28x28"]
    for block in arch["blocks"]:
        keys.append(f"std_k3_d{block['dilation']}_c{block['channels']}_s2_relu@{channels}x{size}x{size}")
        size, channels = (size + 1) // 2, block["channels"]
    assert stem["kernel"] == 3 and arch["head"] == {"dropout": 0.0}
    return [*keys, f"head_gap_n10@{channels}x{size}x{size}"]


def test_an_interrupted_table_goes_on_where_it_stopped(tmp_path, space_file):
    out, keys = tmp_path / "lut.json", set(space_layers(read_space_file(space_file), (1, 28, 28), 10))
    assert len(keys) == 7
    calls = []

    def stop_after_two(done, total, key):
        calls.append((done, total))
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        lut(spaces=(str(space_file),), out=out, calibrate=2, device="cpu", progress=stop_after_two)
    first = load_table(out).layers
    assert len(first) == 2 and not load_table(out).ready
    seen = []
    table = lut(spaces=(str(space_file),), out=out, calibrate=2, device="cpu", progress=lambda *a: seen.append(a))
    assert [total for _, total, _ in seen] == [5] * 5  # only what was missing
    assert set(table.layers) == keys and all(table.layers[key] == entry for key, entry in first.items())
    assert table.ready and table.calibration["candidates"] == 2


@pytest.mark.slow  # about 15 s: the first save comes after 10 s of timing
def test_a_killed_table_keeps_what_it_last_saved_and_the_same_command_goes_on_from_there(tmp_path):
    space = tmp_path / "wide.toml"  # 70 layers, about 0.4 s each on the 2-core VM: more than 10 s of timing
    space.write_text(
        SPACE.replace("channels = [8]", "channels = [8, 12]")
        .replace("widths = [[8], [16]]", "widths = [[8, 12], [16, 24]]")
        .replace('kind = ["standard"]', 'kind = ["standard", "separable"]')
        .replace("kernel = [3]", "kernel = [3, 5]")
    )
    keys, out = set(space_layers(read_space_file(space), (1, 28, 28), 10)), tmp_path / "lut.json"
    command = [sys.executable, "-m", "dsdnas", "lut", "--space", str(space), "--device", "cpu", "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline and not (out.exists() and load_table(out).layers):
        time.sleep(0.05)
    process.kill()  # SIGKILL: no handler runs, only what was saved survives
    process.wait()
    assert out.exists(), "dsdnas lut saved nothing within 120 s"
    saved = load_table(out).layers
    assert 0 < len(saved) < len(keys) == 70 and not load_table(out).ready
    totals = []

    def stop_after_one(done, total, key):
        totals.append(total)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        lut(spaces=(str(space),), out=out, device="cpu", progress=stop_after_one)
    assert totals == [len(keys) - len(saved)]  # only what the killed run had not saved
    again = load_table(out).layers
    assert len(again) == len(saved) + 1 and all(again[key] == entry for key, entry in saved.items())


def test_a_table_from_before_the_element_cost_keeps_its_constants_and_predicts_as_it_did(table_file, space_file):
    data = json.loads(table_file.read_text())
    del data["element_ns"]  # as a table written before the constant existed
    table_file.write_text(json.dumps(data))
    old = load_table(table_file)
    arch = sample_archs(read_space_file(space_file), (1, 28, 28), 10, count=1, seed=0)[0]
    keys = [layer.key for layer in arch_layers(arch)]
    by_hand = sum(old.layers[key]["ms"] for key in keys) - (len(keys) - 1) * old.call_ms + old.model_ms
    assert old.element_ns is None and old.predict_ms(arch) == pytest.approx(by_hand)  # no element term
    args = ["lut", "--space", str(space_file), "--calibrate", "2", "--device", "cpu", "--out", str(table_file)]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    said = " ".join(result.output.split())
    assert result.exit_code == 0 and f"{table_file}: 0 layer(s) to time" in said, result.output
    assert "0.00 ns an element handed between layers" in said  # what it predicts with
    # Not fitted again in this process, where whole candidates read unlike its layers.
    table = load_table(table_file)
    assert table.layers == data["layers"] and table.calibration == data["calibration"] and table.element_ns is None


def test_constants_fitted_anew_drop_the_check_of_the_old_ones(table_file, space_file):
    checked = lut(spaces=(str(space_file),), out=table_file, calibrate=2, check=2, device="cpu")
    assert checked.check["candidates"] == 2
    data = json.loads(table_file.read_text())
    data["model_ms"] = None  # as after new layers: the constants are fitted again
    table_file.write_text(json.dumps(data))
    refitted = lut(spaces=(str(space_file),), out=table_file, calibrate=2, device="cpu")
    assert refitted.ready and refitted.check == {} == load_table(table_file).check


def test_a_check_times_other_candidates_whole_and_keeps_the_error(table_file, space_file):
    table = lut(spaces=(str(space_file),), out=table_file, calibrate=2, check=3, device="cpu")
    check = load_table(table_file).check
    assert check["candidates"] == 3 == len(check["rows"]) and check == table.check
    errors = [abs(r["predicted_ms"] - r["measured_ms"]) / r["measured_ms"] for r in check["rows"]]
    assert check["mape"] == pytest.approx(sum(errors) / 3)


@pytest.mark.slow  # 15 s: 14 layers, and 4 candidates timed whole
def test_the_command_times_several_spaces_into_one_table_saying_how_long_and_how_well(tmp_path, space_file):
    wider = tmp_path / "wider.toml"
    wider.write_text(SPACE.replace('"lut-test"', '"lut-wider"').replace("channels = [8]", "channels = [12]"))
    keys = {key for path in (space_file, wider) for key in space_layers(read_space_file(path), (1, 28, 28), 10)}
    assert len(keys) == 10  # 7 each; their second stages' blocks and their heads are the same 4 layers, timed once
    out = tmp_path / "lut.json"
    args = ["lut", "--space", str(space_file), "--space", str(wider), "--calibrate", "2", "--check", "2"]
    result = CliRunner().invoke(app, [*args, "--device", "cpu", "--out", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert f"{out}: {len(keys)} layer(s) to time, 0 already there; torch on " in said and "on a quiet machine" in said
    assert f"wrote {out}: {len(keys)} layers, " in said and " of them timed noisy; constants: " in said
    # With 2 calibration candidates the corrected error fits its own data: said, not left to read as a test.
    assert "corrected (on the candidates the constants were fitted to: --check N times others)" in said
    assert "check: 2 candidates timed whole" in said and "mean absolute error " in said
    table = load_table(out)
    assert set(table.layers) == keys and table.check["candidates"] == 2
    again = CliRunner().invoke(app, [*args, "--device", "cpu", "--out", str(out)], env={"COLUMNS": "200"})
    assert f"{out}: 0 layer(s) to time, {len(keys)} already there" in " ".join(again.output.split())


@pytest.mark.parametrize("noisy", [0, 1], ids=["none", "one of 7"])
def test_the_command_says_how_many_layers_stayed_noisy_and_what_to_do_when_many_did(noisy, table_file, space_file):
    made = json.loads(table_file.read_text())
    for index, key in enumerate(sorted(made["layers"])):  # whatever the fixture's real timing flagged
        made["layers"][key]["noisy"] = index < noisy
    table_file.write_text(json.dumps(made))
    total = len(made["layers"])
    args = ["lut", "--space", str(space_file), "--calibrate", "2", "--device", "cpu", "--out", str(table_file)]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert f"{table_file}: 0 layer(s) to time, {total} already there" in said  # nothing timed again
    assert f"wrote {table_file}: {total} layers, {noisy} of them timed noisy; constants: " in said
    advice = f"{noisy} of {total} layers stayed noisy: the machine was busy, or its cores are shared"
    assert (advice in said and "or at --threads 1 if the model will run on one thread" in said) == bool(noisy)


def test_a_table_is_never_extended_with_figures_of_another_runtime(table_file, space_file):
    before = table_file.read_bytes()
    with pytest.raises(LutError, match="measured with runtime torch, not onnxruntime"):
        lut(spaces=(str(space_file),), out=table_file, runtime="onnxruntime", device="cpu")
    assert table_file.read_bytes() == before


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--calibrate", "0"], "--calibrate 0 must be at least 1"),
        (["--runtime", "tflite"], "--latency-runtime 'tflite' must be one of"),
        (["--classes", "1"], "--classes 1 must be at least 2"),
        (["--space", "nowhere"], "nowhere"),
    ],
)
def test_bad_lut_options_are_refused_before_anything_is_written(tmp_path, options, message):
    out = tmp_path / "lut.json"
    result = CliRunner().invoke(app, ["lut", "--out", str(out), "--device", "cpu", *options])
    assert result.exit_code == 2 and message in result.output and not out.exists()


def _search_logging_locks(tmp_path, monkeypatch, space_file, budget: str, *options: str):
    """A search of the test space, each quiet-lock window it takes logged: (its folder, the log, its arguments)."""
    log = tmp_path / "locks.jsonl"
    monkeypatch.setenv("DSDNAS_LOCK_LOG", str(log))
    run = tmp_path / "run"
    args = ["search", *SEARCH, "--space", str(space_file), "--budget", budget, "--out", str(run)]
    result = CliRunner().invoke(app, [*args, *options])
    assert result.exit_code == 0, result.output
    return run, log, args


def test_a_search_with_a_table_times_no_candidate_and_says_whose_latencies_it_shows(
    tmp_path, table_file, space_file, monkeypatch
):
    data = json.loads(table_file.read_text())
    data["element_ns"] = 3.0  # 2 calibration candidates fit none: set by hand, so the sums below must take it off
    table_file.write_text(json.dumps(data))
    options = ["--objectives", "accuracy,latency", "--latency-lut", str(table_file)]
    run, log, args = _search_logging_locks(tmp_path, monkeypatch, space_file, "3", *options)
    windows = [json.loads(line)["kind"] for line in log.read_text().splitlines()]
    assert "train" in windows and "measure" not in windows  # nothing was timed, not even the front at the end
    table = load_table(table_file)
    trials = read_trials_csv(run)
    assert set(trials["latency_source"]) == {table.label}
    for row in trials.itertuples():  # the table's file read by hand: the trial's layers by their written names
        keys = _layer_keys(json.loads((run / "trials" / str(row.trial) / "arch.json").read_text()))
        total = sum(table.layers[key]["ms"] for key in keys)
        handed = sum(math.prod(map(int, key.split("@")[1].split("x"))) for key in keys[1:-1])  # the blocks' inputs
        boundaries = (len(keys) - 1) * table.call_ms + handed * table.element_ns * 1e-6
        assert row.latency_ms == pytest.approx(total - boundaries + table.model_ms)
    assert json.loads((run / "run.json").read_text())["settings"]["latency"] == f"lut: {table.target}"
    assert not (run / "front_latency.json").exists()
    report = CliRunner().invoke(app, ["report", str(run)])
    page = (run / "report.html").read_text()
    assert report.exit_code == 0 and "Accuracy against predicted latency" in page
    assert f"Latencies {html.escape(table.label)}: each model's is the sum of its layers' entries" in page
    exported = CliRunner().invoke(app, ["export", str(run), "--out", str(tmp_path / "shipped")])
    assert exported.exit_code == 0, exported.output
    source = (tmp_path / "shipped" / "model.py").read_text()
    assert f"{table.label};" in source and "its error was not checked (dsdnas lut --check N" in source
    again = CliRunner().invoke(app, [*args, "--objectives", "accuracy,latency"])  # without the table: other settings
    assert again.exit_code == 2 and "(latency)" in again.output


@pytest.mark.slow  # the table, then a 3 s search
def test_a_latency_limit_skips_candidates_on_the_tables_figure_without_timing_them(
    tmp_path, table_file, space_file, monkeypatch
):
    options = ["--max-latency-ms", "0.000001", "--latency-lut", str(table_file)]
    run, log, _ = _search_logging_locks(tmp_path, monkeypatch, space_file, "3s", *options)
    trials, label = read_trials_csv(run), load_table(table_file).label
    assert len(trials) and set(trials["status"]) == {"skipped"} and set(trials["latency_source"]) == {label}
    for row in trials.itertuples():  # the table's sums, each over the limit
        assert row.latency_ms > 0 and row.reason.startswith(f"latency_ms {row.latency_ms:.4g} is over --max-latency-ms")
    assert not log.exists() or "measure" not in log.read_text()  # and nothing timed


def test_a_table_that_lacks_a_layer_of_the_space_is_refused_before_the_search_starts(tmp_path, table_file, space_file):
    data = json.loads(table_file.read_text())
    missing = sorted(data["layers"])[0]
    del data["layers"][missing]
    table_file.write_text(json.dumps(data))
    run = tmp_path / "run"
    args = ["search", *SEARCH, "--space", str(space_file), "--budget", "2", "--out", str(run)]
    result = CliRunner().invoke(app, [*args, "--latency-lut", str(table_file)])
    assert result.exit_code == 2 and not run.exists()
    command = (  # every setting the table was made with, which extending it must repeat
        f"dsdnas lut --space {space_file} --input 1x28x28 --classes 10 --runtime torch --threads {data['threads']} "
        f"--device cpu --out {table_file}"
    )
    assert f"lacks 1 layer(s) of {space_file} (e.g. {missing}); on its device run: {command}" in " ".join(
        result.output.split()
    )


def test_a_table_that_lacks_a_built_in_spaces_layers_names_the_space_as_lut_takes_it(tmp_path, table_file):
    run = tmp_path / "run"
    args = ["search", *SEARCH, "--space", "dsd-tiny", "--budget", "2", "--out", str(run)]
    result = CliRunner().invoke(app, [*args, "--latency-lut", str(table_file)])
    assert result.exit_code == 2 and not run.exists()
    message = " ".join(result.output.split())
    assert " of dsd-tiny (e.g. " in message and "on its device run: dsdnas lut --space dsd-tiny --input" in message


def test_a_search_measures_latency_in_the_runtime_it_is_given(tmp_path, space_file):
    run = tmp_path / "run"
    args = ["search", *SEARCH, "--space", str(space_file), "--budget", "2", "--out", str(run)]
    result = CliRunner().invoke(app, [*args, "--latency-runtime", "onnxruntime"])
    assert result.exit_code == 0, result.output
    assert set(read_trials_csv(run)["latency_source"]) == {"onnxruntime"}
    assert json.loads((run / "front_latency.json").read_text())["runtime"] == "onnxruntime"
    assert json.loads((run / "run.json").read_text())["settings"]["latency"] == "onnxruntime"
    assert (
        f"onnxruntime on {cpu_count()} CPU thread(s), batch 1, the median pass at full machine speed"
        in (run / "report.html").read_text()
    )  # its summary
    shipped = tmp_path / "shipped"
    exported = CliRunner().invoke(app, ["export", str(run), "--out", str(shipped), "--latency-runtime", "torchscript"])
    assert exported.exit_code == 0, exported.output
    assert "cpu, torchscript 2 threads; measured at export on" in (shipped / "model.py").read_text()


def test_a_check_is_quoted_with_its_date_by_the_report_and_the_export(table_file, space_file, tmp_path):
    from dsdnas.nas.runs.export import latency_lines
    from dsdnas.reports._summary import latency_line

    table = lut(spaces=(str(space_file),), out=table_file, calibrate=2, check=3, device="cpu")
    facts = {"label": table.label, "check": {k: v for k, v in table.check.items() if k != "rows"}}
    line = latency_line({"latency_table": facts}, noisy=0, finished=3)
    assert line.startswith(table.label) and f"candidates timed whole there ({table.check['measured']})" in line
    assert f"{table.check['mape']:.1%} mean absolute error" in line

    class Stored:
        metrics = {"latency_ms": 0.25, "latency_source": table.label}

    docstring = latency_lines(Stored(), facts)
    assert docstring[0] == f"Latency: 0.250 ms (batch 1), {table.label};"
    assert "over 3 candidates timed whole on that device" in docstring[1]


def test_a_candidate_the_runtime_cannot_run_fails_with_the_reason_and_the_search_goes_on(tmp_path):
    # Two stages leave a 7x7 map: a pool head's 2x2 grid does not divide it (the ONNX exporter refuses), 7x7 does.
    space = tmp_path / "pools.toml"
    space.write_text(
        SPACE.replace("count = [1, 2]", "count = [2]").replace("[head]", '[head]\nkind = ["pool"]\npool = [2, 7]')
    )
    run = tmp_path / "run"
    args = ["search", *SEARCH, "--space", str(space), "--budget", "3", "--out", str(run)]
    result = CliRunner().invoke(app, [*args, "--latency-runtime", "onnxruntime", "--seed", "1"])
    assert result.exit_code == 0, result.output
    trials = read_trials_csv(run)
    failed, trained = trials[trials["status"] == "failed"], trials[trials["status"].isin(["trained", "reused"])]
    assert len(trained) == 3 and set(trained["latency_source"]) == {"onnxruntime"}  # the budget: 3 evaluated
    assert all("head_pool7" in notation for notation in trained["notation"])
    assert len(failed) >= 1 and all("head_pool2" in notation for notation in failed["notation"])
    assert all(reason.startswith("onnxruntime cannot run it: the ONNX exporter says") for reason in failed["reason"])


def test_a_lut_config_checks_every_option_range():
    with pytest.raises(Exception, match="--check -1 must be >= 0"):
        LutConfig(check=-1).validate()
