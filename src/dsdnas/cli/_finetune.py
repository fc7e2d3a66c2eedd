"""`dsdnas finetune`."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from dsdnas.api.config import FinetuneConfig
from dsdnas.cli._common import MASKED_NOTE, config_from, console, handle_errors, masked, percent
from dsdnas.cli._options import (
    ArtifactsOption,
    AugmentOption,
    BatchSizeOption,
    ColorOption,
    DataDirOption,
    DeviceOption,
    ImageSizeOption,
    LabelSmoothingOption,
    LrOption,
    PickOption,
    RunArgument,
    SeedOption,
    StorageOption,
    TrialOption,
    ValFractionOption,
)
from dsdnas.cli._progress import EpochProgress
from dsdnas.cli._shipped import finetune_members

_DEFAULT = FinetuneConfig()


@handle_errors
def finetune_command(
    *,  # Typer passes every option by name
    run: RunArgument,
    trial: TrialOption = _DEFAULT.trial,
    pick: PickOption = _DEFAULT.pick,
    front: Annotated[
        bool, typer.Option("--front", help="Fine-tune every member of the Pareto front, cheapest first.")
    ] = _DEFAULT.front,
    top: Annotated[
        int | None, typer.Option(help="Fine-tune K front members spread over the cost range.", metavar="K")
    ] = _DEFAULT.top,
    epochs: Annotated[int, typer.Option(help="Training epochs.")] = _DEFAULT.epochs,
    out: Annotated[Path | None, typer.Option(help="Output folder. Default: RUN/finetune/<trial>[-<dataset>].")] = None,
    init: Annotated[
        str, typer.Option(help="scratch, or search: start from the trial's search weights.")
    ] = _DEFAULT.init,
    dataset: Annotated[
        str | None, typer.Option(help="Transfer to new data: folder:PATH, npz:PATH, ...")
    ] = _DEFAULT.dataset,
    freeze: Annotated[
        str, typer.Option(help="Transfer only: none, partial:K (train last K blocks + head) or head.")
    ] = _DEFAULT.freeze,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted fine-tune from its last epoch.")
    ] = _DEFAULT.resume,
    batch_size: BatchSizeOption = _DEFAULT.batch_size,
    lr: LrOption = _DEFAULT.lr,
    label_smoothing: LabelSmoothingOption = _DEFAULT.label_smoothing,
    augment: AugmentOption = _DEFAULT.augment,
    ema: Annotated[
        bool, typer.Option(help="Evaluate an exponential moving average of the weights (final mode).")
    ] = _DEFAULT.ema,
    patience: Annotated[
        int, typer.Option(help="Transfer: stop after this many epochs without a better validation score.")
    ] = _DEFAULT.patience,
    val_fraction: ValFractionOption = _DEFAULT.val_fraction,
    seed: SeedOption = _DEFAULT.seed,
    device: DeviceOption = _DEFAULT.device,
    storage: StorageOption = _DEFAULT.storage,
    artifacts: ArtifactsOption = _DEFAULT.artifacts,
    data_dir: DataDirOption = _DEFAULT.data_dir,
    image_size: ImageSizeOption = _DEFAULT.image_size,
    color: ColorOption = _DEFAULT.color,
) -> None:
    """Train the chosen model to its best test accuracy, or transfer it to new data."""
    from dsdnas.api import finetune, hide_password

    config = config_from(FinetuneConfig, locals())
    if config.front or config.top is not None:
        finetune_members(run, config)
        return
    with EpochProgress("fine-tune", config.epochs) as progress:
        result = finetune(run, config=config, on_epoch=progress.update)
    for note in result.notes:
        console.print(note, soft_wrap=True)
    metrics = result.metrics
    low, high = result.test_interval
    console.print(
        f"trial {metrics['trial']} ({metrics['mode']}): test accuracy {percent(metrics['test_accuracy'])} "
        f"[{100 * low:.1f}, {100 * high:.1f}] on {metrics['test_size']:,} images, after {metrics['epochs']} epochs "
        f"in {metrics['train_s']:.1f} s",
        soft_wrap=True,
    )
    console.print(f"written to {result.out_dir}", soft_wrap=True, markup=False)
    console.print("ship it (export takes a trial's fine-tuned weights when it has them):", soft_wrap=True)
    # A transfer, or a fine-tune written to --out, is exported from its own folder: export looks for a
    # trial's fine-tune in the run's finetune/ only. Else through its trial, as export prefers it.
    own_folder = metrics["mode"] == "transfer" or config.out is not None
    storage = hide_password(config.storage) if config.storage and not own_folder else None
    if own_folder:
        source = shlex.quote(str(result.out_dir))
    else:
        source = f"{shlex.quote(str(run))} --trial {metrics['trial']}"
        source += f" --storage {shlex.quote(storage)}" if storage else ""
    console.print(f"  dsdnas export {source} --out shipped", soft_wrap=True, markup=False)
    if masked(storage):
        console.print(MASKED_NOTE, soft_wrap=True)
