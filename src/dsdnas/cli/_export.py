"""`dsdnas export`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dsdnas.cli._common import console, handle_errors


@handle_errors
def export_command(
    run: Annotated[Path, typer.Argument(help="Run directory, or a fine-tune folder.")],
    trial: Annotated[int | None, typer.Option(help="Export this trial.")] = None,
    pick: Annotated[str | None, typer.Option(help="best (most accurate Pareto model) or knee.")] = None,
    max_latency_ms: Annotated[float | None, typer.Option(help="Most accurate model at or under this latency.")] = None,
    max_macs: Annotated[float | None, typer.Option(help="Most accurate model at or under this many MACs.")] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder. Default: RUN/export/trial-N.")] = None,
    name: Annotated[str, typer.Option(help="Class name of the model in model.py.")] = "Net",
    format: Annotated[str, typer.Option("--format", help="Comma-separated: py, onnx, torchscript.")] = "py",
    finetuned: Annotated[
        bool, typer.Option("--finetuned", help="Export the fine-tuned model of the chosen trial.")
    ] = False,
    storage: Annotated[str | None, typer.Option(help="Storage URL, when the run used --storage.")] = None,
    data_dir: Annotated[str | None, typer.Option(help="Where the run's dataset files are, if not the default.")] = None,
) -> None:
    """Export a model as readable standalone PyTorch (model.py + weights.safetensors), verified."""
    from dsdnas.api_export import export

    formats = tuple(f.strip() for f in format.split(",") if f.strip())
    if "py" not in formats:
        formats = ("py", *formats)  # the source and weights are always written
    result = export(run, trial, pick, max_latency_ms, max_macs, out, name, formats, finetuned, storage, data_dir)
    console.print(f"exported to {result.out_dir}: {', '.join(f.name for f in result.files)}")
    console.print(f"verified on real images: max |logit difference| {result.max_abs_diff:.2e}")
    for runtime, diff in result.extra_diffs.items():
        console.print(f"  {runtime}: max |logit difference| {diff:.2e}")
    for skipped in result.skipped_checks:
        console.print(f"  not checked: {skipped}")
