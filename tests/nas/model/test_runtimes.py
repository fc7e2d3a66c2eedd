"""The runtimes latency is measured in: each runs the same model, and the measurement says which ran."""

from importlib.metadata import version

import pytest
import torch

from dsdnas.errors import DsdnasError
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.latency import measure_latency
from dsdnas.nas.model.runtimes import RUNTIMES, check_runtime, prepare, runtime_versions


@pytest.mark.parametrize("name", RUNTIMES)
def test_every_runtime_computes_what_the_model_computes(name, small_arch):
    model = build_model(small_arch, seed=1).eval()
    sample = torch.rand(1, *small_arch.input_shape)
    with torch.no_grad():
        expected = model(sample)
    check_runtime(name)
    forward = prepare(name, model, sample, threads=2)
    with torch.inference_mode():
        got = forward()
    got = got[0] if isinstance(got, list) else got  # onnxruntime returns a list of numpy arrays
    assert torch.allclose(torch.as_tensor(got), expected, atol=1e-4)


@pytest.mark.parametrize("name", RUNTIMES)
def test_a_measurement_records_its_runtime_and_leaves_the_model_as_it_was(name, small_arch):
    model = build_model(small_arch).train()
    latency = measure_latency(model, small_arch.input_shape, device="cpu", threads=1, repeats=10, runtime=name)
    assert latency.runtime == name and latency.p50_ms > 0
    assert model.training and next(model.parameters()).device.type == "cpu"


def test_an_unknown_runtime_is_one_line_naming_the_known_ones():
    with pytest.raises(DsdnasError, match="--latency-runtime 'tflite' must be one of torch, torchscript, onnxruntime"):
        check_runtime("tflite")


def test_a_runtimes_versions_name_its_packages():
    assert set(runtime_versions("onnxruntime")) == {"torch", "onnx", "onnxruntime"}
    assert runtime_versions("torch") == {"torch": version("torch")}


def test_a_model_the_onnx_exporter_cannot_write_is_one_line_naming_the_runtime(capfd):
    from dsdnas.nas.model.arch import Head
    from dsdnas.nas.model.layers import head_layer
    from dsdnas.nas.model.runtimes import UnsupportedModel

    head = head_layer(Head(kind="pool", pool=2), (16, 7, 7), 10).build().eval()  # a 2x2 grid does not divide 7x7
    with pytest.raises(
        UnsupportedModel, match="^onnxruntime cannot run it: the ONNX exporter says .*adaptive_avg_pool2d"
    ):
        prepare("onnxruntime", head, torch.rand(1, 16, 7, 7), threads=1)
    assert capfd.readouterr().out == ""  # the graph dump the exporter prints from C++ stays out of the terminal
    prepare("torch", head, torch.rand(1, 16, 7, 7), threads=1)()  # torch runs it
