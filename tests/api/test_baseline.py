"""dsdnas.baseline on a real run: trained on the run's split, profiled, stored, compared in the report."""

import json
import os

import pytest
import torch
from typer.testing import CliRunner

import dsdnas
from dsdnas.api import against_baselines, load_run
from dsdnas.cli import app
from dsdnas.errors import DsdnasError
from dsdnas.reports import build_report_data, render_report
from dsdnas.reports._figures import pareto_figure
from tests.support import FAST

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run"
    dsdnas.search(budget=3, out=out, **FAST)
    return out


def test_a_baseline_is_trained_on_the_runs_own_validation_split_and_stored(run):
    result = dsdnas.baseline(run, model="seed-cnn", epochs=1, device="cpu")
    metrics = json.loads((run / "baselines" / "seed-cnn" / "metrics.json").read_text())
    assert metrics["split"] == "validation" and metrics["size"] == 60  # the candidates' 600-image subset, 10%
    assert metrics["macs"] == 26 * 26 * 32 * 9 + 24 * 24 * 64 * 32 * 9 + 9216 * 128 + 1280
    assert metrics["latency_ms"] > 0 and 0 <= metrics["accuracy"] <= 1 and metrics["epochs"] == 1
    assert result.metrics["accuracy"] == metrics["accuracy"]
    assert (run / "baselines" / "seed-cnn" / "weights.safetensors").exists()
    provenance = json.loads((run / "baselines" / "seed-cnn" / "baseline.json").read_text())
    assert provenance["weights"].startswith("none")


def test_the_linear_and_mlp_references_train_on_the_split_and_are_named_by_their_width(run):
    linear = dsdnas.baseline(run, model="linear", epochs=1, device="cpu", label_smoothing=0.0, augment=False)
    assert linear.out_dir.name == "linear" and linear.metrics["macs"] == 784 * 10
    mlp = dsdnas.baseline(run, model="mlp", hidden=8, epochs=1, device="cpu")
    assert mlp.out_dir.name == "mlp-h8" and mlp.metrics["model"] == "mlp-h8"
    assert mlp.metrics["macs"] == 784 * 8 + 8 * 10 and mlp.metrics["params"] == 784 * 8 + 8 + 8 * 10 + 10
    baselines, _ = against_baselines(run)
    assert {"linear", "mlp-h8"} <= set(baselines["baseline"])
    with pytest.raises(DsdnasError, match="--hidden applies to --model mlp, not seed-cnn"):
        dsdnas.baseline(run, model="seed-cnn", hidden=8, device="cpu")


def test_a_torchvision_baseline_on_test_is_scored_like_a_fine_tune(run):
    result = dsdnas.baseline(run, model="mobilenet_v3_small", epochs=1, device="cpu", test=True, freeze="partial:1")
    assert result.metrics["split"] == "test" and result.metrics["size"] == 1000
    provenance = json.loads((result.out_dir / "baseline.json").read_text())
    assert any("3x3 stride 1" in change for change in provenance["changes"]) and provenance["freeze"] == "partial:1"
    assert result.out_dir.name == "mobilenet_v3_small-test"


def test_the_report_and_trials_compare_the_front_with_each_baseline(run):
    _, study, meta = load_run(run)
    data = build_report_data(study, meta, run)
    names = set(data.baselines["baseline"])
    assert {"seed-cnn", "mobilenet_v3_small"} <= names
    assert {c["baseline"] for c in data.comparisons} == names
    page = render_report(data)
    assert 'id="baseline-table"' in page and '"name": "reference models"' in page and '"symbol": "star"' in page
    frame, comparisons = against_baselines(run)
    assert len(frame) == len(comparisons) == len(names)


def test_a_baseline_timed_in_another_runtime_is_labelled_and_its_latency_not_set_against_the_fronts(run):
    result = dsdnas.baseline(run, model="linear", epochs=1, device="cpu", latency_runtime="torchscript")
    dsdnas.baseline(run, model="mlp", hidden=4, epochs=1, device="cpu")  # timed in torch, as the front
    assert result.metrics["latency_runtime"] == "torchscript" and result.metrics["latency_ms"] > 0
    frame, _ = against_baselines(run)  # the sentences across runtimes: tests/reports/test_baselines.py
    assert frame.set_index("baseline").loc["linear", "latency_runtime"] == "torchscript"
    _, study, meta = load_run(run)
    data = build_report_data(study, meta, run)

    def stars(cost: str) -> list[str]:
        figure = pareto_figure(data, cost, cost)
        return [name for trace in figure.data if trace.name == "reference models" for name in trace.text]

    assert "linear" in stars("macs") and "linear" not in stars("latency_ms") and "mlp-h4" in stars("latency_ms")
    assert '<td class="text" data-sort="torchscript">torchscript</td>' in render_report(data)
    listed = CliRunner().invoke(app, ["trials", str(run), "--baselines"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    [row] = [line for line in listed.output.splitlines() if line.lstrip("│ ").startswith("linear ")]
    assert "torchscript" in row


def test_default_weights_offline_are_one_clear_line(run, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # an empty hub cache
    with pytest.raises(DsdnasError, match="--weights DEFAULT needs torchvision's ResNet18_Weights") as info:
        dsdnas.baseline(run, model="resnet18", weights="DEFAULT", epochs=1, device="cpu")
    assert "\n" not in str(info.value) and str(tmp_path / "torch") in str(info.value)
    assert not os.path.exists(run / "baselines" / "resnet18")


def test_weights_from_a_file_train_from_there(run, tmp_path):
    from torchvision.models import shufflenet_v2_x0_5

    torch.save(shufflenet_v2_x0_5(weights=None).state_dict(), tmp_path / "shufflenet.pth")
    result = dsdnas.baseline(
        run, model="shufflenet_v2_x0_5", weights=str(tmp_path / "shufflenet.pth"), epochs=1, device="cpu", freeze="head"
    )
    provenance = json.loads((result.out_dir / "baseline.json").read_text())
    assert provenance["freeze"] == "head" and any("summed over input channels" in n for n in provenance["weight_notes"])
