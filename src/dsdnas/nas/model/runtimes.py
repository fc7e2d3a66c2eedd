"""The runtimes a model's latency can be measured in: one table entry each.

A model ships to a runtime, and for the small networks dsdnas finds the runtime's own
overhead is a large part of a forward pass, so latency is measured in the runtime the
user will deploy with:

    torch        PyTorch eager, in inference mode (the default, as before runtimes existed)
    torchscript  torch.jit.trace, then torch.jit.freeze (folds BatchNorm, inlines weights)
    onnxruntime  the legacy ONNX exporter, then an onnxruntime CPU session (the `export` extra)

`prepare(name, model, sample, threads=N)` returns a no-argument callable that runs one forward
pass of `sample` in that runtime, so the timing code is the same for all of them. It is
called outside inference mode (tracing and the ONNX exporter need autograd's tensors); the
timed passes run inside it.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from dsdnas.errors import DsdnasError

DEFAULT_RUNTIME = "torch"


class UnsupportedModel(DsdnasError):
    """The runtime cannot run this model (the legacy ONNX exporter lacks one of its operators)."""


@dataclass(frozen=True)
class Runtime:
    """One runtime: how to make a forward pass of a model in it, and the packages whose versions matter."""

    name: str
    prepare: Callable[[nn.Module, torch.Tensor, int], Callable[[], object]]
    packages: tuple[str, ...]
    cpu_only: bool = False  # runs on the CPU whatever device the model trained on


def _torch(model: nn.Module, sample: torch.Tensor, threads: int) -> Callable[[], object]:
    return lambda: model(sample)


def _torchscript(model: nn.Module, sample: torch.Tensor, threads: int) -> Callable[[], object]:
    with warnings.catch_warnings(), torch.no_grad():  # torch.jit warns of its deprecation
        warnings.simplefilter("ignore")
        frozen = torch.jit.freeze(torch.jit.trace(model, (sample,)))
    return lambda: frozen(sample)


@contextlib.contextmanager
def _no_stdout() -> Iterator[None]:
    """Nothing reaches standard output, from Python or from C++: the exporter prints a failed graph from C++."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no file descriptor 1 at all: nothing can reach it
        with contextlib.redirect_stdout(io.StringIO()):
            yield
        return
    try:
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(io.StringIO()):
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _onnxruntime(model: nn.Module, sample: torch.Tensor, threads: int) -> Callable[[], object]:
    import onnxruntime  # checked by `check_runtime` before any work

    buffer = io.BytesIO()  # model and sample are on the CPU (`measuring_device`)
    # The exporter prints the whole graph to stdout when it fails: kept out of the user's terminal.
    with warnings.catch_warnings(), torch.no_grad(), _no_stdout():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(model, (sample,), buffer, input_names=["images"], dynamo=False)
        except Exception as error:  # noqa: BLE001 - the exporter raises many types; all mean "cannot run it"
            # e.g. adaptive average pooling to a grid that does not divide the map (a pool2 head on 7x7)
            first = str(error).splitlines()[0][:200]
            raise UnsupportedModel(f"onnxruntime cannot run it: the ONNX exporter says {first}") from None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: no per-session warnings on stderr
    session = onnxruntime.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
    feed = {"images": sample.numpy()}
    return lambda: session.run(None, feed)


RUNTIMES: dict[str, Runtime] = {
    runtime.name: runtime
    for runtime in (
        Runtime("torch", _torch, ("torch",)),
        Runtime("torchscript", _torchscript, ("torch",)),
        Runtime("onnxruntime", _onnxruntime, ("torch", "onnx", "onnxruntime"), cpu_only=True),
    )
}


def check_runtime(name: str) -> Runtime:
    """The runtime called `name`; an unknown one, or one whose packages are missing, is a one-line error."""
    runtime = RUNTIMES.get(name)
    if runtime is None:
        raise DsdnasError(f"--latency-runtime {name!r} must be one of {', '.join(RUNTIMES)}")
    missing = [package for package in runtime.packages if not _installed(package)]
    if missing:
        raise DsdnasError(
            f"--latency-runtime {name} needs {', '.join(missing)}, which is not installed: pip install 'dsdnas[export]'"
        )
    return runtime


def _installed(package: str) -> bool:
    from importlib.util import find_spec

    return find_spec(package) is not None


def runtime_versions(name: str) -> dict[str, str]:
    """The versions of the packages a runtime's figures depend on."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in RUNTIMES[name].packages:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def measuring_device(name: str, device: torch.device) -> torch.device:
    """Where the runtime times a model that lives on `device`."""
    return torch.device("cpu") if RUNTIMES[name].cpu_only else device


def prepare(name: str, model: nn.Module, sample: torch.Tensor, *, threads: int) -> Callable[[], object]:
    """A no-argument forward pass of `model` on `sample` in runtime `name`, on `threads` CPU threads."""
    return RUNTIMES[name].prepare(model, sample, threads)
