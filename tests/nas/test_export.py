"""Export: golden source, parity with the built model, standalone use, name fuzzing."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import dsdnas
from dsdnas.errors import ExportError
from dsdnas.nas.arch import Arch, Block, Head, Stem
from dsdnas.nas.artifacts import StoredModel
from dsdnas.nas.builder import build_model
from dsdnas.nas.codegen import generate_source, sanitize_identifier
from dsdnas.nas.export import export_model, import_module_from
from dsdnas.nas.rundir import save_weights
from dsdnas.search_spaces import BUILTIN_NAMES, get_space
from tests.search_spaces.test_spaces import ScriptedTrial

GOLDEN = Path(__file__).parent / "golden" / "model_golden.py"
GOLDEN_ARCH = Arch(
    (1, 28, 28),
    10,
    Stem(16),
    (Block("separable", 5, 2, 32, 2), Block("standard", 3, 1, 32, 1, residual=True, activation="hardswish")),
    Head(0.1),
)


def golden_source() -> str:
    header = ["Architecture: " + GOLDEN_ARCH.notation, "Search: trial 7 of study golden", "Dataset: mnist-sample"]
    return generate_source(GOLDEN_ARCH, "DigitNet", (0.1307,), (0.3081,), [str(d) for d in range(10)], header, "0.1.0")


def test_generator_output_matches_the_golden_file():
    # A change to the generator shows up here as a readable diff. To accept it:
    # python -c "from tests.nas.test_export import *; GOLDEN.write_text(golden_source())"
    assert golden_source() == GOLDEN.read_text()


def test_golden_file_is_ruff_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", str(GOLDEN)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


def stored_model(tmp_path: Path, arch: Arch, mean=(0.2,), std=(0.3,), class_names=None) -> StoredModel:
    model = build_model(arch, seed=1)
    generator = torch.Generator().manual_seed(0)
    for module in model.modules():  # non-trivial BatchNorm statistics
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.copy_(torch.randn(module.num_features, generator=generator) * 0.1)
            module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
    save_weights(tmp_path / "weights.safetensors", model.state_dict())
    names = class_names or [f"c{i}" for i in range(arch.num_classes)]
    metrics = {"val_accuracy": 0.5, "macs": 1, "params": 1, "latency_ms": 1.0, "device": "cpu"}
    return StoredModel(tmp_path, arch, metrics, "mnist-sample", names, tuple(mean), tuple(std), 3, "test")


def random_images(arch: Arch, n: int = 8) -> torch.Tensor:
    return torch.randint(0, 256, (n, *arch.input_shape), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("kind", ["standard", "separable"])
@pytest.mark.parametrize("residual", [False, True])
def test_parity_for_every_block_kind(tmp_path, kind, residual):
    arch = Arch((3, 16, 16), 4, Stem(8), (Block(kind, 3, 2, 8, 1, residual, "silu"), Block(kind, 5, 1, 12, 2)))
    stored = stored_model(tmp_path / "m", arch, mean=(0.1, 0.2, 0.3), std=(0.2, 0.3, 0.4))
    result = export_model(stored, tmp_path / "out", random_images(arch))
    assert result.max_abs_diff <= 1e-5


@pytest.mark.parametrize("space", BUILTIN_NAMES)
def test_parity_for_every_builtin_space(tmp_path, space):
    rng = torch.Generator().manual_seed(2)
    for index in range(3):
        arch = get_space(space).sample(ScriptedTrial(rng=rng), (1, 28, 28), 10)
        result = export_model(
            stored_model(tmp_path / f"m{index}", arch), tmp_path / f"out{index}", random_images(arch, 4)
        )
        assert result.max_abs_diff <= 1e-5


@pytest.mark.parametrize(
    "name", ["class", "1net", "a-b", "Ünïcödé Net", 'quote"s', "it's", "print", "load", "", "名前"]
)
def test_any_class_name_gives_valid_importable_code(tmp_path, name):
    arch = GOLDEN_ARCH
    stored = stored_model(
        tmp_path / "m",
        arch,
        class_names=['a"""b', "back\\slash", "naïve", "x'; import os #", "é", "6", "7", "8", "9", "10"],
    )
    result = export_model(stored, tmp_path / "out", random_images(arch), class_name=name)
    source = (tmp_path / "out" / "model.py").read_text()
    assert source.isascii()
    module = import_module_from(tmp_path / "out" / "model.py")
    assert module.CLASS_NAMES[0] == 'a"""b' and module.CLASS_NAMES[2] == "naïve"
    assert result.max_abs_diff <= 1e-5
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", str(tmp_path / "out" / "model.py")],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout


def test_sanitize_identifier_is_unique_ascii():
    assert sanitize_identifier("class") == "class_"
    assert sanitize_identifier("1net") == "Net_1net"
    assert sanitize_identifier("a-b") == "a_b"
    assert sanitize_identifier("Net", {"Net"}) == "Net_2"


def test_mismatch_fails_loudly_and_writes_nothing(tmp_path):
    stored = stored_model(tmp_path / "m", GOLDEN_ARCH)
    stored.mean = (float("nan"),)  # the generated model then computes nan
    with pytest.raises(ExportError, match="differs"):
        export_model(stored, tmp_path / "out", random_images(GOLDEN_ARCH))
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export-")]


def test_onnx_and_torchscript_exports_match(tmp_path):
    stored = stored_model(tmp_path / "m", GOLDEN_ARCH)
    result = export_model(stored, tmp_path / "out", random_images(GOLDEN_ARCH), formats=("py", "onnx", "torchscript"))
    assert {f.name for f in result.files} == {"model.py", "weights.safetensors", "model.onnx", "model.pt"}
    assert result.extra_diffs["onnx"] <= 1e-4 and result.extra_diffs["torchscript"] <= 1e-5


STANDALONE = r"""
import sys
sys.modules["dsdnas"] = None  # importing dsdnas now raises ImportError
import numpy as np, torch
sys.path.insert(0, sys.argv[1])
from model import load
model = load()
images = torch.from_numpy(np.load(sys.argv[2])).float() / 255.0
labels = torch.from_numpy(np.load(sys.argv[3]))
with torch.no_grad():
    accuracy = (model(images).argmax(1) == labels).float().mean().item()
try:
    import dsdnas  # noqa: F401
    print("dsdnas importable")
except ImportError:
    pass
print(accuracy)
"""


@pytest.mark.slow
def test_exported_module_runs_without_dsdnas_and_gives_the_recorded_accuracy(tmp_path, mnist_sample):
    run = tmp_path / "run"
    dsdnas.search(budget=1, dataset="mnist-sample", space="dsd-tiny", epochs=1, device="cpu", out=run)
    dsdnas.export(run, trial=0, out=tmp_path / "exported")
    # The validation split the search scored on, carved exactly as the search carved it.
    from dsdnas.nas.splits import stratified_split

    _, val = stratified_split(mnist_sample.y_train, 0.1, seed=0)
    np.save(tmp_path / "x.npy", mnist_sample.x_train[val].numpy())
    np.save(tmp_path / "y.npy", mnist_sample.y_train[val].numpy())
    script = tmp_path / "standalone.py"
    script.write_text(STANDALONE)
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "exported"), str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "dsdnas importable" not in out.stdout
    recorded = json.loads((run / "trials" / "0" / "metrics.json").read_text())["val_accuracy"]
    assert float(out.stdout.strip().splitlines()[-1]) == pytest.approx(recorded, abs=1e-6)
