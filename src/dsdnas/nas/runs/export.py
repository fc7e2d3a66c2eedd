"""Export a stored model as standalone source plus weights, verified before it lands.

Everything is written to a staging folder first. The generated module is imported in a
fresh namespace, its weights loaded, and its outputs compared with the stored model on
real images (max |difference| <= 1e-5). Only then are the files moved into place, so a
failed export leaves nothing half-written.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from dsdnas.errors import ExportError
from dsdnas.nas.files import save_weights, write_text
from dsdnas.nas.lut import spearman_text
from dsdnas.nas.model.codegen import generate_source
from dsdnas.nas.runs.artifacts import StoredModel
from dsdnas.nas.runs.rundir import MODEL_FILE, ONNX_FILE, TORCHSCRIPT_FILE, WEIGHTS_FILE

TOLERANCE = 1e-5  # max absolute difference of logits
FORMATS = ("py", "onnx", "torchscript")


@dataclass
class ExportResult:
    out_dir: Path
    files: list[Path]
    max_abs_diff: float
    weights: str = ""  # which weights were shipped, in one line (StoredModel.weights_line)
    extra_diffs: dict[str, float] = field(default_factory=dict)
    skipped_checks: list[str] = field(default_factory=list)


def latency_lines(stored: StoredModel, table: dict[str, Any] | None = None) -> list[str]:
    """What model.py says of its latency: the figure, where it was measured or predicted, and a table's error.

    `table` is run.json's `latency_table` (the search's --latency-lut, with its check) when there is one.
    """
    ms, source = stored.metrics.get("latency_ms"), stored.metrics.get("latency_source") or "torch"
    if ms is None:
        return []
    if not source.startswith("predicted"):
        device = stored.metrics.get("latency_device") or stored.metrics.get("device", "?")  # where it was timed
        threads = stored.metrics.get("threads")  # on the CPU; figures from before it was kept lack it
        on = f" on {threads} CPU thread(s)" if threads and str(device).startswith("cpu") else ""
        return [f"Latency: {ms:.3f} ms (median, batch 1, {device}, {source}{on})"]
    check = (table or {}).get("check") or {}
    if not check.get("candidates"):
        error = "its error was not checked (dsdnas lut --check N measures it)"
    else:
        error = (
            f"its checked error: {check['mape']:.1%} mean absolute, Spearman {spearman_text(check)}, "
            f"over {check['candidates']} candidates timed whole on that device"
        )
    return [f"Latency: {ms:.3f} ms (batch 1), {source};", f"  {error}"]


def header_lines(stored: StoredModel, version: str, latency: list[str] | None = None) -> list[str]:
    """model.py's docstring: what the model is, how good, what it costs; `latency` replaces `latency_lines`."""
    metrics = stored.metrics
    lines = [
        f"Architecture: {stored.arch.notation}",
        f"Search: trial {stored.trial} of study {stored.study}",
        f"Dataset: {stored.dataset}",
    ]
    if metrics.get("val_accuracy") is not None:
        lines.append(f"Validation accuracy: {100 * metrics['val_accuracy']:.2f}%")
    if stored.finetuned:
        lines.append(
            f"Test accuracy (fine-tuned, {metrics.get('epochs')} epochs): {100 * metrics['test_accuracy']:.2f}%"
        )
    if metrics.get("macs") is not None:
        lines.append(f"MACs: {metrics['macs']:,} per image; params: {metrics['params']:,}")
    lines += latency_lines(stored) if latency is None else latency
    lines.append(f"Classes: {', '.join(stored.class_names)}")
    lines.append(f"Written by dsdnas {version}.")
    return lines


def import_module_from(path: Path):
    """Import a .py file under a fresh, unique module name."""
    name = f"dsdnas_export_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # noqa: BLE001 - any failure of generated code is an export failure
        raise ExportError(f"the generated {path.name} does not import: {error}") from None
    finally:
        sys.modules.pop(name, None)
    return module


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a.float() - b.float()).abs().max().item()


def _write_onnx(model: torch.nn.Module, path: Path, input_shape: tuple[int, ...]) -> None:
    dummy = torch.rand(2, *input_shape)
    torch.onnx.export(
        model,
        (dummy,),
        str(path),
        input_names=["images"],
        output_names=["logits"],
        dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
        dynamo=False,
    )


def _check_onnx(path: Path, images: torch.Tensor, *, expected: torch.Tensor, result: ExportResult) -> None:
    try:
        import onnxruntime
    except ImportError:
        result.skipped_checks.append("onnx (onnxruntime is not installed: pip install 'dsdnas[export]')")
        return
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"images": images.numpy()})
    result.extra_diffs["onnx"] = _max_diff(torch.from_numpy(logits), expected)


FORMAT_FILES = {"py": (MODEL_FILE, WEIGHTS_FILE), "onnx": (ONNX_FILE,), "torchscript": (TORCHSCRIPT_FILE,)}
SHIPPED_FILES = tuple(name for names in FORMAT_FILES.values() for name in names)
EXPORT_MARK = "a small CNN found by dsdnas"  # in the first line of every model.py an export writes


def exported_here(out_dir: str | Path) -> bool:
    """Whether `out_dir` holds an earlier export of ours: its model.py says so on its first line."""
    try:
        with (Path(out_dir) / MODEL_FILE).open(encoding="utf-8", errors="replace") as model:
            return EXPORT_MARK in model.readline()
    except OSError:
        return False


def foreign_files(out_dir: str | Path, formats: tuple[str, ...] = ("py",)) -> list[str]:
    """The files an export in `formats` would replace in `out_dir` that no earlier export wrote ([] when it may)."""
    names = [name for fmt in ("py", *formats) for name in FORMAT_FILES[fmt]]
    taken = [name for name in dict.fromkeys(names) if (Path(out_dir) / name).exists()]
    return [] if exported_here(out_dir) else taken


def export_model(
    stored: StoredModel,
    out_dir: str | Path,
    images: torch.Tensor,
    *,
    class_name: str = "Net",
    formats: tuple[str, ...] = ("py",),
    version: str = "",
    latency: list[str] | None = None,
) -> ExportResult:
    """Write model.py + weights (+ model.onnx / model.pt) to `out_dir`, verified on `images` (uint8)."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ExportError(f"--format {','.join(unknown)}: use py, onnx and/or torchscript")
    out_dir = Path(out_dir)
    ours = exported_here(out_dir)  # an earlier export's files in formats not asked for now are removed
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=out_dir.parent))
    try:
        with warnings.catch_warnings():  # torch.jit and torch.onnx warn of their own deprecation
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            result = _write_and_verify(
                stored, staging, images, class_name=class_name, formats=formats, version=version, latency=latency
            )
        out_dir.mkdir(parents=True, exist_ok=True)
        written = {file.name for file in staging.iterdir()}
        for name in written:
            os.replace(staging / name, out_dir / name)
        for name in SHIPPED_FILES if ours else ():  # or the folder would ship two models
            if name not in written:
                (out_dir / name).unlink(missing_ok=True)
        result.out_dir = out_dir
        result.files = sorted(out_dir / f.name for f in result.files)
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_and_verify(
    stored: StoredModel,
    staging: Path,
    images: torch.Tensor,
    *,
    class_name: str,
    formats: tuple[str, ...],
    version: str,
    latency: list[str] | None,
) -> ExportResult:
    source = generate_source(
        stored.arch,
        class_name,
        mean=stored.mean,
        std=stored.std,
        class_names=stored.class_names,
        header=header_lines(stored, version, latency),
        version=version,
    )
    write_text(staging / MODEL_FILE, source)
    reference = stored.build()
    save_weights(staging / WEIGHTS_FILE, reference.state_dict(), {"notation": stored.arch.notation})
    module = import_module_from(staging / MODEL_FILE)
    exported = module.load(staging / WEIGHTS_FILE)
    raw = images.float() / 255.0
    with torch.inference_mode():
        expected = reference(stored.normalize(images))
        got = exported(raw)
    diff = _max_diff(got, expected)
    if not diff <= TOLERANCE:
        raise ExportError(
            f"exported model differs from the stored one by {diff:.3g} (> {TOLERANCE}); nothing was written"
        )
    result = ExportResult(staging, [staging / MODEL_FILE, staging / WEIGHTS_FILE], diff, weights=stored.weights_line)
    if "onnx" in formats:
        _write_onnx(exported, staging / ONNX_FILE, stored.arch.input_shape)
        result.files.append(staging / ONNX_FILE)
        _check_onnx(staging / ONNX_FILE, raw, expected=expected, result=result)
    if "torchscript" in formats:
        traced = torch.jit.trace(exported, raw[:2])
        traced.save(str(staging / TORCHSCRIPT_FILE))
        result.files.append(staging / TORCHSCRIPT_FILE)
        with torch.inference_mode():
            result.extra_diffs["torchscript"] = _max_diff(
                torch.jit.load(str(staging / TORCHSCRIPT_FILE))(raw), expected
            )
    for name, value in result.extra_diffs.items():
        if not value <= 1e-4:  # other runtimes may fuse ops in another order
            raise ExportError(f"the {name} export differs from the stored model by {value:.3g}; nothing was written")
    return result
