"""Export: parity of the generated module with the built model, for every block kind and space."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from dsdnas.errors import ExportError
from dsdnas.nas.files import save_weights
from dsdnas.nas.model.arch import Arch, Block, Stem
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.runs.artifacts import StoredModel
from dsdnas.nas.runs.export import export_model, import_module_from
from dsdnas.search_spaces import BUILTIN_NAMES, get_space
from tests.nas.model.test_codegen import GOLDEN_ARCH
from tests.support import ScriptedTrial, by_hand_outputs, normalised_by_hand, shipped_outputs


def stored_model(
    folder: Path, arch: Arch, mean=(0.2,), std=(0.3,), class_names=None, calibrate: torch.Tensor | None = None
) -> StoredModel:
    """A model saved as a trial's files, with non-trivial BatchNorm statistics: random ones, or
    with `calibrate` (raw images) those of these images, as training would leave them, so that a
    deep untrained candidate's outputs still depend on its input."""
    model = build_model(arch, seed=1)
    norms = [module for module in model.modules() if isinstance(module, torch.nn.BatchNorm2d)]
    if calibrate is None:
        generator = torch.Generator().manual_seed(0)
        for module in norms:
            module.running_mean.copy_(torch.randn(module.num_features, generator=generator) * 0.1)
            module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
    else:
        for module in norms:
            module.reset_running_stats()
            module.momentum = None  # a cumulative average over the calibration batch
        with torch.no_grad():
            model.train()(normalised_by_hand(calibrate, mean, std))
        model.eval()
    save_weights(folder / "weights.safetensors", model.state_dict())
    names = class_names or [f"c{i}" for i in range(arch.num_classes)]
    metrics = {"val_accuracy": 0.5, "macs": 1, "params": 1, "latency_ms": 1.0, "device": "cpu"}
    return StoredModel(folder, arch, metrics, "mnist-sample", names, tuple(mean), tuple(std), 3, "test")


def random_images(arch: Arch, n: int = 8) -> torch.Tensor:
    return torch.randint(0, 256, (n, *arch.input_shape), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("kind", ["standard", "separable"])
@pytest.mark.parametrize("residual", [False, True])
def test_parity_for_every_block_kind(tmp_path, kind, residual):
    arch = Arch((3, 16, 16), 4, Stem(8), (Block(kind, 3, 2, 8, 1, residual, "silu"), Block(kind, 5, 1, 12, 2)))
    mean, std = (0.1, 0.2, 0.3), (0.2, 0.3, 0.4)
    stored = stored_model(tmp_path / "m", arch, mean=mean, std=std)
    images = random_images(arch)
    result = export_model(stored, tmp_path / "out", images)
    assert result.max_abs_diff <= 1e-5
    expected = by_hand_outputs(tmp_path / "m", arch, images, mean, std)
    torch.testing.assert_close(shipped_outputs(tmp_path / "out", images), expected, atol=1e-5, rtol=0)
    assert expected.std(dim=0).max() > 1e-3  # outputs vary from image to image: the input reaches them


@pytest.mark.parametrize("space", BUILTIN_NAMES)
def test_parity_for_every_builtin_space(tmp_path, space):
    """Three candidates of each space: the shipped files' outputs on raw images against the built model's."""
    rng = torch.Generator().manual_seed(2)
    for index in range(3):
        arch = get_space(space).sample(ScriptedTrial(rng=rng), (1, 28, 28), 10)
        images = random_images(arch, 4)
        calibration = torch.randint(0, 256, (32, *arch.input_shape), dtype=torch.uint8, generator=rng)
        stored = stored_model(tmp_path / f"m{index}", arch, calibrate=calibration)
        out = tmp_path / f"out{index}"
        assert export_model(stored, out, images).max_abs_diff <= 1e-5
        expected = by_hand_outputs(stored.folder, arch, images, stored.mean, stored.std)
        torch.testing.assert_close(shipped_outputs(out, images), expected, atol=1e-5, rtol=0)
        assert expected.std(dim=0).max() > 1e-3, arch.notation  # the input reaches the outputs


def test_hostile_class_labels_stay_data(tmp_path):
    labels = ['a"""b', "back\\slash", "naïve", "x'; import os #", "é", "6", "7", "8", "9", "10"]
    stored = stored_model(tmp_path / "m", GOLDEN_ARCH, class_names=labels)
    export_model(stored, tmp_path / "out", random_images(GOLDEN_ARCH))
    source = (tmp_path / "out" / "model.py").read_text()
    assert source.isascii()
    module = import_module_from(tmp_path / "out" / "model.py")
    assert labels == module.CLASS_NAMES
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", str(tmp_path / "out" / "model.py")],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout


NO_ARGUMENT_LOAD = r"""
import importlib.util, sys
sys.modules["dsdnas"] = None  # the exported files must not need dsdnas
import torch
for index, (folder, name) in enumerate(zip(sys.argv[1::2], sys.argv[2::2])):
    spec = importlib.util.spec_from_file_location(f"exported_{index}", f"{folder}/model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.load()  # no argument: the weights next to model.py
    assert type(model).__name__ == name, (type(model).__name__, name)
    assert model(torch.rand(2, *module.INPUT_SHAPE)).shape == (2, len(module.CLASS_NAMES))
print("loaded", (len(sys.argv) - 1) // 2)
"""

ODD_BUT_VALID_NAMES = ["Net", "_Net", "Model_v2", "json", "os", "sys", "np", "Pathlib", "TORCH", "load_model", "Net__"]


@pytest.mark.slow
def test_every_accepted_class_name_gives_a_file_whose_load_works_with_no_argument(tmp_path):
    folders = []
    for index, name in enumerate(ODD_BUT_VALID_NAMES):
        out = tmp_path / f"out{index}"
        export_model(
            stored_model(tmp_path / f"m{index}", GOLDEN_ARCH), out, random_images(GOLDEN_ARCH), class_name=name
        )
        folders += [str(out), name]
    script = tmp_path / "load_all.py"
    script.write_text(NO_ARGUMENT_LOAD)
    result = subprocess.run([sys.executable, str(script), *folders], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"loaded {len(ODD_BUT_VALID_NAMES)}" in result.stdout


def test_a_refused_class_name_writes_nothing(tmp_path):
    stored = stored_model(tmp_path / "m", GOLDEN_ARCH)
    with pytest.raises(ExportError, match="--name 'Path'"):
        export_model(stored, tmp_path / "out", random_images(GOLDEN_ARCH), class_name="Path")
    assert not (tmp_path / "out").exists()


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
