"""Options that several commands share, declared once so their help reads the same everywhere.

Defaults are not here: each command takes them from its config dataclass in
`dsdnas.api.config`, which is the one place they live.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

RunArgument = Annotated[Path, typer.Argument(help="Run directory written by dsdnas search.", metavar="RUN")]
StorageOption = Annotated[
    str | None,
    typer.Option(
        help="Optuna storage URL (e.g. postgresql://user:pw@host/db) to share one study among machines. "
        "Default: RUN/study.db, or the one the run recorded."
    ),
]
ArtifactsOption = Annotated[
    str | None,
    typer.Option(
        help="A folder (or s3://BUCKET) shared by every worker: trained trials' files go there, and are fetched "
        "from there on any machine. Default: the one the run recorded."
    ),
]
DeviceOption = Annotated[str, typer.Option(help="auto (CUDA when present), cpu, cuda, cuda:N or mps.")]
DataDirOption = Annotated[str | None, typer.Option(help="Where to look first for MNIST and Fashion-MNIST files.")]
ImageSizeOption = Annotated[int | None, typer.Option(help="Resize folder: images to N x N pixels.")]
ColorOption = Annotated[str, typer.Option(help="Read folder: images as auto, gray or rgb.")]
SeedOption = Annotated[int, typer.Option(help="Seed for sampling, splits and training.")]
BatchSizeOption = Annotated[int, typer.Option(help="Training batch size.")]
LabelSmoothingOption = Annotated[float, typer.Option(help="Label smoothing of the training loss, in [0, 1).")]
AugmentOption = Annotated[bool, typer.Option(help="Random shifts of up to 2 px, on the device.")]
LrOption = Annotated[float | None, typer.Option(help="Peak learning rate (default: AdamW 1e-2 at batch 64).")]
ValFractionOption = Annotated[float, typer.Option(help="Validation share carved from train, stratified, in (0, 1).")]
TrialOption = Annotated[int | None, typer.Option(help="Use this trial.")]
PickOption = Annotated[
    str | None,
    typer.Option(
        help="best: the most accurate front model (the default). knee: the front model farthest from the line "
        "joining the front's two ends (accuracy against log10 cost, both scaled to [0, 1]), where more cost "
        "starts to buy little accuracy."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ReferenceOption = Annotated[
    Path | None,
    typer.Option(
        help="CSV of published results (name, macs, params, accuracy in percent, source) to draw beside the "
        "fine-tuned front; kept as RUN/references.csv. Examples: docs/references/.",
        metavar="CSV",
    ),
]
LatencyThreadsOption = Annotated[
    int | None,
    typer.Option(
        help="CPU threads the model is timed on. Default: all. On a shared or busy machine, 1 gives figures "
        "that repeat (docs/latency.md); give what the model will have where it ships.",
    ),
]
LatencyRuntimeOption = Annotated[
    str,
    typer.Option(
        help="Where latency is measured: torch (eager), torchscript (traced and frozen) or onnxruntime (CPU; "
        "pip install 'dsdnas[export]'). Measure in the runtime you will ship with."
    ),
]
