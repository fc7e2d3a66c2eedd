"""`dsdnas baseline`."""

from __future__ import annotations

from typing import Annotated

import typer

from dsdnas.api.config import BaselineConfig
from dsdnas.cli._common import config_from, console, handle_errors, human, percent
from dsdnas.cli._options import (
    AugmentOption,
    BatchSizeOption,
    DataDirOption,
    DeviceOption,
    LabelSmoothingOption,
    LatencyRuntimeOption,
    LrOption,
    RunArgument,
    SeedOption,
    StorageOption,
)
from dsdnas.cli._progress import EpochProgress

_DEFAULT = BaselineConfig()


@handle_errors
def baseline_command(
    *,  # Typer passes every option by name
    run: RunArgument,
    model: Annotated[
        str,
        typer.Option(
            help="linear, mlp, seed-cnn, resnet18, resnet50, mobilenet_v2, mobilenet_v3_small, shufflenet_v2_x0_5, "
            "efficientnet_b0, or torchvision:NAME."
        ),
    ] = _DEFAULT.model,
    hidden: Annotated[
        int | None, typer.Option(help="Units of the mlp's hidden layer (with --model mlp). Default: 64.")
    ] = _DEFAULT.hidden,
    weights: Annotated[
        str | None,
        typer.Option(help="Start from a state dict (.safetensors, or a torch file read weights-only), or DEFAULT."),
    ] = _DEFAULT.weights,
    freeze: Annotated[
        str, typer.Option(help="none, head (train only the new classifier) or partial:K (the last K parts too).")
    ] = _DEFAULT.freeze,
    epochs: Annotated[int | None, typer.Option(help="Training epochs. Default: the fine-tune default.")] = None,
    test: Annotated[
        bool, typer.Option("--test", help="Train on all of train and score once on the test split, like finetune.")
    ] = _DEFAULT.test,
    batch_size: BatchSizeOption = _DEFAULT.batch_size,
    lr: LrOption = None,
    label_smoothing: LabelSmoothingOption = _DEFAULT.label_smoothing,
    augment: AugmentOption = _DEFAULT.augment,
    seed: SeedOption = _DEFAULT.seed,
    device: DeviceOption = _DEFAULT.device,
    latency_runtime: LatencyRuntimeOption = _DEFAULT.latency_runtime,
    latency_threads: Annotated[
        int | None,
        typer.Option(help="CPU threads its latency is timed on. Default: the run's --latency-threads, else all."),
    ] = _DEFAULT.latency_threads,
    storage: StorageOption = _DEFAULT.storage,
    data_dir: DataDirOption = _DEFAULT.data_dir,
) -> None:
    """Train a reference model on the run's own data and split, profiled like the candidates."""
    from dsdnas.api import baseline

    config = config_from(BaselineConfig, locals())
    with EpochProgress(f"baseline {model}", config.epoch_count) as progress:
        result = baseline(run, config=config, on_epoch=progress.update)
    m = result.metrics
    console.print(
        f"{m['model']}: {m['split']} accuracy {percent(m['accuracy'])} on {m['size']:,} images; "
        f"{human(m['macs'])} MACs, {human(m['params'])} params, "
        f"{m['latency_ms']:.3f} ms ({m.get('latency_runtime', 'torch')})"
    )
    console.print(f"written to {result.out_dir}")
