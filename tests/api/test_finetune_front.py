"""`finetune --front`: every front member fine-tuned once, skipped when done, resumed after a kill,
then export and the report choose among them by test accuracy."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dsdnas
from dsdnas.cli import app
from dsdnas.errors import DsdnasError
from dsdnas.nas.files import file_sha256
from tests.support import FAST, read_trials_csv

pytestmark = pytest.mark.slow  # every test here trains on a real run

DOCS = Path(__file__).resolve().parents[2] / "docs"
runner = CliRunner()


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    out = tmp_path_factory.mktemp("front")
    dsdnas.search(budget=4, out=out, **FAST)
    return out


@pytest.fixture
def run(searched, tmp_path):
    """A fresh copy of the searched run, so each test fine-tunes from nothing."""
    return Path(shutil.copytree(searched, tmp_path / "run"))


def _front(run) -> list[int]:
    trials = read_trials_csv(run)
    return trials.query("pareto").sort_values(["macs", "trial"])["trial"].tolist()


def _tested(run, number) -> dict:
    return json.loads((run / "finetune" / str(number) / "metrics.json").read_text())


def test_every_front_member_is_fine_tuned_once_and_the_same_call_skips_them(run):
    members = _front(run)
    assert len(members) >= 2
    first = dsdnas.finetune_front(run, epochs=1, device="cpu")
    assert first.members == members and first.trained == members and first.skipped == []
    plan = json.loads((run / "finetune" / "front.json").read_text())
    assert plan["members"] == members and plan["settings"]["epochs"] == 1
    for number in members:
        metrics = _tested(run, number)
        assert metrics["mode"] == "final" and metrics["epochs"] == 1 and metrics["test_size"] == 1000
    weights = {n: file_sha256(run / "finetune" / str(n) / "weights.safetensors") for n in members}
    again = dsdnas.finetune_front(run, epochs=1, device="cpu")
    assert again.trained == [] and again.skipped == members
    assert weights == {n: file_sha256(run / "finetune" / str(n) / "weights.safetensors") for n in members}
    other = dsdnas.finetune_front(run, epochs=2, device="cpu", top=2)  # other settings: trained again
    assert other.trained == [members[0], members[-1]] and _tested(run, members[-1])["epochs"] == 2


def test_an_interrupted_front_loses_only_the_member_in_training_and_goes_on_from_its_checkpoint(run):
    members = _front(run)
    events = []

    def stop_in_the_second_member(stats):
        if len([e for e in events if e.what == "start"]) == 2 and stats.epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        dsdnas.finetune_front(run, epochs=2, device="cpu", on_member=events.append, on_epoch=stop_in_the_second_member)
    assert (run / "finetune" / str(members[0]) / "weights.safetensors").exists()
    assert not (run / "finetune" / str(members[1]) / "weights.safetensors").exists()
    events.clear()
    result = dsdnas.finetune_front(run, epochs=2, device="cpu", on_member=events.append)
    assert result.skipped == [members[0]] and result.trained == members[1:]
    resumed = [e for e in events if e.what == "start" and e.trial == members[1]]
    assert resumed and resumed[0].resumed  # from the epoch-1 checkpoint, not from scratch
    assert _tested(run, members[1])["epochs"] == 2


def test_a_member_started_again_with_other_settings_never_keeps_the_older_result(run):
    members = _front(run)
    dsdnas.finetune(run, trial=members[0], epochs=1, device="cpu")  # an earlier, shorter fine-tune

    def stop_in_the_first_epoch(stats):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        dsdnas.finetune_front(run, epochs=2, device="cpu", on_epoch=stop_in_the_first_epoch)
    assert not (run / "finetune" / str(members[0]) / "weights.safetensors").exists()
    events = []
    result = dsdnas.finetune_front(run, epochs=2, device="cpu", on_member=events.append)
    assert result.trained == members and not events[0].resumed and _tested(run, members[0])["epochs"] == 2


def test_export_and_report_choose_among_the_fine_tuned_members_by_test_accuracy(run, tmp_path):
    members = _front(run)
    dsdnas.finetune_front(run, epochs=1, device="cpu")
    tested = {n: _tested(run, n) for n in members}
    # the oracle: the most accurate on the test split, fewer MACs breaking a tie
    best = max(members, key=lambda n: (tested[n]["test_accuracy"], -tested[n]["macs"]))
    shipped = dsdnas.export(run, pick="best", out=tmp_path / "best")
    assert shipped.weights.startswith(f"trial {best}: fine-tuned weights")
    assert "chosen from the shipped front" in shipped.weights
    search = dsdnas.export(run, pick="best", search_weights=True, out=tmp_path / "search")
    assert "search weights" in search.weights
    dsdnas.report(run, reference=DOCS / "references" / "mnist.csv")
    assert (run / "references.csv").read_text() == (DOCS / "references" / "mnist.csv").read_text()
    html = (run / "report.html").read_text()
    assert 'id="shipped-macs"' in html and 'id="shipped-params"' in html and "LeNet-5" in html
    assert html.count("<li class=") >= 5  # one verdict per reference point


def test_front_refuses_options_that_name_one_model():
    with pytest.raises(DsdnasError, match="drop --trial"):
        dsdnas.finetune_front("runs/none", trial=3)
    with pytest.raises(DsdnasError, match="--top 0 must be at least 1"):
        dsdnas.finetune_front("runs/none", top=0)
    with pytest.raises(DsdnasError, match="call finetune_front"):
        dsdnas.finetune("runs/none", front=True)


def test_the_cli_shows_each_member_then_the_shipped_front_and_keeps_a_report_on_a_bad_reference(run, tmp_path):
    result = runner.invoke(app, ["finetune", str(run), "--top", "2", "--epochs", "1", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "member 1/2, trial" in result.output and "member 2/2, trial" in result.output
    assert "the shipped front of" in result.output and "--pick knee --out shipped" in result.output
    before = (run / "report.html").read_bytes()
    bad = tmp_path / "bad.csv"
    bad.write_text("name,macs,params,accuracy,source\nx,,5,0.9,paper\n")
    refused = runner.invoke(app, ["report", str(run), "--reference", str(bad)])
    assert refused.exit_code == 2 and "accuracy '0.9' must be a test accuracy in percent" in refused.output
    assert (run / "report.html").read_bytes() == before and not (run / "references.csv").exists()
    never = runner.invoke(app, ["search", "--budget", "1", "--out", str(tmp_path / "new"), "--reference", str(bad)])
    assert never.exit_code == 2 and not (tmp_path / "new").exists()
