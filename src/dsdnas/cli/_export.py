"""`dsdnas export`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dsdnas.api.config import ExportConfig
from dsdnas.cli._common import config_from, console, handle_errors
from dsdnas.cli._options import ArtifactsOption, DataDirOption, PickOption, StorageOption, TrialOption

_DEFAULT = ExportConfig()


@handle_errors
def export_command(
    *,  # Typer passes every option by name
    run: Annotated[Path, typer.Argument(help="Run directory, or a fine-tune folder.", metavar="RUN")],
    trial: TrialOption = _DEFAULT.trial,
    pick: PickOption = _DEFAULT.pick,
    max_latency_ms: Annotated[
        float | None, typer.Option(help="The most accurate model at or under this latency (ms).")
    ] = _DEFAULT.max_latency_ms,
    max_macs: Annotated[
        float | None, typer.Option(help="The most accurate model at or under this many MACs.")
    ] = _DEFAULT.max_macs,
    finetuned: Annotated[
        bool,
        typer.Option("--finetuned", help="Require the chosen trial's fine-tuned model (an error when it has none)."),
    ] = _DEFAULT.finetuned,
    search_weights: Annotated[
        bool,
        typer.Option("--search-weights", help="Ship the search's weights even when the trial has been fine-tuned."),
    ] = _DEFAULT.search_weights,
    out: Annotated[
        Path | None,
        typer.Option(help="Output folder. Default: RUN/export/trial-N; for fine-tuned weights, RUN/finetune/N/export."),
    ] = None,
    name: Annotated[
        str, typer.Option(help="Class name of the model in model.py: an ASCII Python identifier.")
    ] = _DEFAULT.name,
    formats: Annotated[
        str, typer.Option("--format", help="Comma-separated: py, onnx, torchscript (py is always written).")
    ] = "py",
    storage: StorageOption = _DEFAULT.storage,
    artifacts: ArtifactsOption = _DEFAULT.artifacts,
    data_dir: DataDirOption = _DEFAULT.data_dir,
    latency_runtime: Annotated[
        str | None,
        typer.Option(
            help="Time the model here, now, in torch, torchscript or onnxruntime (CPU), and state that figure in "
            "model.py. Default: the figure the search recorded, with its runtime or table."
        ),
    ] = _DEFAULT.latency_runtime,
    latency_threads: Annotated[
        int | None,
        typer.Option(
            help="Time the model here, now, on this many CPU threads (in --latency-runtime, else the search's), and "
            "state that figure in model.py.",
        ),
    ] = _DEFAULT.latency_threads,
) -> None:
    """Export a model as readable standalone PyTorch (model.py + weights.safetensors), verified.

    It ships the chosen trial's fine-tuned weights when it has them. After `dsdnas finetune RUN --front`,
    --pick and the budgets choose among the fine-tuned members by their test accuracy.
    """
    from dsdnas.api import export

    result = export(run, config=config_from(ExportConfig, locals()))
    console.print(result.weights, soft_wrap=True)
    console.print(f"exported to {result.out_dir}: {', '.join(f.name for f in result.files)}", soft_wrap=True)
    console.print(f"verified on real images: max |logit difference| {result.max_abs_diff:.2e}")
    for runtime, diff in result.extra_diffs.items():
        console.print(f"  {runtime}: max |logit difference| {diff:.2e}")
    for skipped in result.skipped_checks:
        console.print(f"  not checked: {skipped}")
