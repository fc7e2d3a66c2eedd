"""Fine-tune: final retraining, transfer with frozen layers, resume, export of the result."""

import json
import shlex
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import dsdnas
from dsdnas.cli import app
from dsdnas.errors import DataError, DsdnasError
from dsdnas.nas.files import load_weights
from dsdnas.nas.model.arch import Arch
from dsdnas.nas.runs.rundir import CHECKPOINT_FILE
from tests.support import by_hand_outputs, read_trials_csv, shipped_outputs, write_image_folder

pytestmark = pytest.mark.slow  # every test here trains on a real run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    # Trial 0 is the space's cheapest candidate; trial 1 a sampled one, a better feature extractor.
    dsdnas.search(budget=2, dataset="mnist-sample", space="dsd-tiny", epochs=3, device="cpu", out=out)
    return out


def _most_accurate_trial(run) -> int:
    trials = read_trials_csv(run)
    return int(trials.loc[trials["accuracy"].idxmax(), "trial"])


def test_final_finetune_writes_metrics_curves_and_weights(run, tmp_path):
    result = dsdnas.finetune(run, trial=0, epochs=2, out=tmp_path / "ft", device="cpu")
    metrics = json.loads((tmp_path / "ft" / "metrics.json").read_text())
    assert 0 < metrics["test_accuracy"] <= 1 and result.metrics["test_accuracy"] == metrics["test_accuracy"]
    assert metrics["epochs"] == 2 and metrics["mode"] == "final"
    assert len(metrics["confusion_matrix"]) == 10 and sum(map(sum, metrics["confusion_matrix"])) == 1000
    assert set(metrics["per_class_accuracy"]) == {str(d) for d in range(10)}
    assert (tmp_path / "ft" / "curves.csv").read_text().startswith("epoch,")
    assert {"arch.json", "weights.safetensors", "finetune.json", CHECKPOINT_FILE} <= {
        p.name for p in (tmp_path / "ft").iterdir()
    }


def test_export_of_a_finetuned_model_matches_the_tuned_weights_on_hand_normalised_images(run, tmp_path, mnist_sample):
    """The shipped files, fed raw images, against the built model with the fine-tune's weights fed the
    images normalised by hand: a final fine-tune trains on all of the training split, so its model
    expects that split's mean and std, computed here from the pixels."""
    tuned = dsdnas.finetune(run, trial=0, epochs=1, device="cpu", init="search")  # into RUN/finetune/0
    dsdnas.export(run, trial=0, finetuned=True, out=tmp_path / "exported")
    pixels = mnist_sample.x_train.double() / 255
    mean, std = (pixels.mean().item(),), (pixels.std().item(),)  # one channel; the sample's (n - 1) std
    images = mnist_sample.x_test[:32]
    arch = Arch.from_dict(json.loads((run / "trials" / "0" / "arch.json").read_text()))
    expected = by_hand_outputs(tuned.out_dir, arch, images, mean, std)
    torch.testing.assert_close(shipped_outputs(tmp_path / "exported", images), expected, atol=1e-5, rtol=0)
    assert expected.std(dim=0).max() > 1e-3  # outputs vary from image to image: the input reaches them
    assert "Test accuracy (fine-tuned, 1 epochs)" in (tmp_path / "exported" / "model.py").read_text()


def test_export_ships_a_trials_fine_tuned_weights_without_being_asked_and_says_so(run, tmp_path):
    tuned = dsdnas.finetune(run, trial=0, epochs=1, device="cpu")
    shipped = dsdnas.export(run, trial=0, out=tmp_path / "shipped")  # no flag: what a newcomer types
    assert shipped.weights.startswith(f"trial 0: fine-tuned weights ({run / 'finetune' / '0'}), test ")
    assert f"{100 * tuned.metrics['test_accuracy']:.2f}%" in shipped.weights
    tuned_weights = load_weights(run / "finetune" / "0" / "weights.safetensors")
    exported = load_weights(tmp_path / "shipped" / "weights.safetensors")
    assert all(torch.equal(tuned_weights[name], exported[name]) for name in tuned_weights)
    assert "Test accuracy (fine-tuned" in (tmp_path / "shipped" / "model.py").read_text()
    search = dsdnas.export(run, trial=0, search_weights=True, out=tmp_path / "search")
    assert search.weights.startswith("trial 0: search weights, validation ")
    # Its fine-tune is named as left aside, not the command that would fine-tune it (it was done).
    assert search.weights.endswith(f"; --search-weights: its fine-tune ({run / 'finetune' / '0'}) is left aside")
    searched = load_weights(run / "trials" / "0" / "weights.safetensors")
    assert all(torch.equal(searched[name], load_weights(tmp_path / "search" / "weights.safetensors")[name])
               for name in searched)  # fmt: skip
    with pytest.raises(DsdnasError, match="--finetuned or --search-weights, not both"):
        dsdnas.export(run, trial=0, finetuned=True, search_weights=True)


def test_the_ship_it_command_after_a_finetune_to_out_ships_that_fine_tune(run, tmp_path):
    """Export finds a trial's fine-tune in the run's finetune/ only: one written to --out is exported
    from its folder, or the command printed would ship another model (found by a newcomer's tour)."""
    out = tmp_path / "elsewhere"
    tuned = CliRunner().invoke(app, ["finetune", str(run), "--trial", "1", "--epochs", "1", "--device", "cpu",
                                     "--out", str(out)])  # fmt: skip
    assert tuned.exit_code == 0, tuned.output
    lines = tuned.output.splitlines()
    command = shlex.split(lines[lines.index(next(line for line in lines if line.startswith("ship it"))) + 1])
    assert command[:3] == ["dsdnas", "export", str(out)] and "--trial" not in command
    shipped = CliRunner().invoke(app, [*command[1:-1], str(tmp_path / "shipped")])  # its --out, here
    assert shipped.exit_code == 0, shipped.output
    made, exported = (
        load_weights(out / "weights.safetensors"),
        load_weights(tmp_path / "shipped" / "weights.safetensors"),
    )
    assert all(torch.equal(made[name], exported[name]) for name in made)


def _digit_folder(root, mnist_sample, per_class=30):
    """Digits 0-4 from the test split as PNGs: new data with 5 classes."""
    digits = {f"digit{d}": mnist_sample.x_test[mnist_sample.y_test == d][:per_class, 0].numpy() for d in range(5)}
    return write_image_folder(root, digits)


def test_transfer_with_frozen_layers_keeps_them_bit_identical(run, tmp_path, mnist_sample):
    _digit_folder(tmp_path / "digits", mnist_sample, per_class=60)
    trial = _most_accurate_trial(run)
    result = dsdnas.finetune(
        run,
        trial=trial,
        dataset=f"folder:{tmp_path / 'digits'}",
        freeze="head",
        epochs=30,  # a few steps each on about 250 training images
        patience=30,  # the validation split has a few dozen images: too few to stop on
        device="cpu",
        out=tmp_path / "ft",
        lr=3e-2,
    )
    source = load_weights(run / "trials" / str(trial) / "weights.safetensors")
    tuned = load_weights(tmp_path / "ft" / "weights.safetensors")
    for name, tensor in source.items():
        if not name.startswith("classifier."):
            assert torch.equal(tensor, tuned[name]), name  # frozen: weights and BatchNorm statistics
    assert tuned["classifier.weight"].shape[0] == 5  # a new head for 5 classes
    assert result.metrics["test_accuracy"] > 0.5  # chance is 0.2
    assert result.metrics["mode"] == "transfer" and result.metrics["best_epoch"] >= 1


def test_transfer_refuses_other_channel_counts(run, tmp_path):
    path = tmp_path / "rgb.npz"
    rng = np.random.default_rng(0)
    np.savez(
        path,
        x_train=rng.integers(0, 255, (20, 28, 28, 3), dtype=np.uint8),
        y_train=np.arange(20) % 2,
        x_test=rng.integers(0, 255, (4, 28, 28, 3), dtype=np.uint8),
        y_test=np.arange(4) % 2,
    )
    with pytest.raises(DataError, match="3-channel images but the model takes 1"):
        dsdnas.finetune(run, trial=0, dataset=f"npz:{path}", device="cpu", out=tmp_path / "ft")


def test_interrupted_finetune_resumes_to_the_same_weights(run, tmp_path):
    straight = tmp_path / "straight"
    dsdnas.finetune(run, trial=0, epochs=4, out=straight, device="cpu")
    resumed = tmp_path / "resumed"
    command = [
        sys.executable,
        "-m",
        "dsdnas",
        "finetune",
        str(run),
        "--trial",
        "0",
        "--epochs",
        "4",
        "--out",
        str(resumed),
        "--device",
        "cpu",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while True:  # interrupt once two epochs are checkpointed
        assert time.monotonic() < deadline and process.poll() is None
        path = resumed / CHECKPOINT_FILE
        if path.exists() and len(torch.load(path, weights_only=True)["history"]) >= 2:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (resumed / "weights.safetensors").exists()
    finished = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    expected, got = load_weights(straight / "weights.safetensors"), load_weights(resumed / "weights.safetensors")
    assert expected.keys() == got.keys()
    for name in expected:
        assert torch.equal(expected[name], got[name]), name


FLATTEN_SPACE = """
name = "flatten-test"
[stem]
channels = [4]
stride = 2
[stages]
count = [1]
blocks = [1]
widths = [[8]]
strides = [2]
[block]
kind = ["separable"]
kernel = [3]
dilation = [1]
[head]
kind = ["flatten"]
hidden = [16]
"""


def test_a_transfer_to_another_image_size_re_creates_a_flatten_heads_first_layer_and_says_so(tmp_path, mnist_sample):
    (tmp_path / "space.toml").write_text(FLATTEN_SPACE)
    run = tmp_path / "run"
    dsdnas.search(budget=1, dataset="mnist-sample", space=str(tmp_path / "space.toml"), epochs=1, train_limit=200,
                  device="cpu", out=run)  # fmt: skip
    picked = torch.randperm(len(mnist_sample.y_train), generator=torch.Generator().manual_seed(0))[:300]
    crop, labels = mnist_sample.x_train[picked, 0, 4:24, 4:24].numpy(), mnist_sample.y_train[picked].numpy()
    np.savez(tmp_path / "small.npz", x_train=crop[:240], y_train=labels[:240], x_test=crop[240:], y_test=labels[240:])
    result = dsdnas.finetune(run, trial=0, dataset=f"npz:{tmp_path / 'small.npz'}", freeze="head", epochs=1,
                             device="cpu", out=tmp_path / "ft")  # fmt: skip
    # 28 -> 14 -> 7 gives 8 x 7 x 7 = 392 features; 20 -> 10 -> 5 gives 8 x 5 x 5 = 200.
    assert result.notes == [
        "the flatten head reads 200 features on 20x20 images, not 392: its hidden layer starts afresh"
    ]
    source = load_weights(run / "trials" / "0" / "weights.safetensors")
    tuned = load_weights(tmp_path / "ft" / "weights.safetensors")
    assert source["hidden.0.weight"].shape == (16, 392) and tuned["hidden.0.weight"].shape == (16, 200)
    assert all(torch.equal(source[name], tuned[name]) for name in source if name.startswith(("stem.", "blocks.")))
    assert json.loads((tmp_path / "ft" / "finetune.json").read_text())["changes"] == result.notes
