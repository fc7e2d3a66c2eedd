"""`dsdnas finetune`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dsdnas.cli._common import console, handle_errors, percent


@handle_errors
def finetune_command(
    run: Annotated[Path, typer.Argument(help="Run directory written by dsdnas search.")],
    trial: Annotated[int | None, typer.Option(help="Fine-tune this trial.")] = None,
    pick: Annotated[str | None, typer.Option(help="best (most accurate Pareto model) or knee.")] = None,
    epochs: Annotated[int, typer.Option(help="Training epochs.")] = 30,
    out: Annotated[Path | None, typer.Option(help="Output folder. Default: RUN/finetune/<trial>[-<dataset>].")] = None,
    init: Annotated[str, typer.Option(help="scratch, or search: start from the trial's search weights.")] = "scratch",
    dataset: Annotated[str | None, typer.Option(help="Transfer to new data: folder:PATH, npz:PATH, ...")] = None,
    freeze: Annotated[
        str, typer.Option(help="Transfer only: none, partial:K (train last K blocks + head) or head.")
    ] = "none",
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted fine-tune from its last epoch.")
    ] = False,
    batch_size: Annotated[int, typer.Option(help="Training batch size.")] = 64,
    lr: Annotated[float | None, typer.Option(help="Peak learning rate (default: AdamW 1e-2 at batch 64).")] = None,
    label_smoothing: Annotated[float, typer.Option(help="Label smoothing.")] = 0.1,
    augment: Annotated[bool, typer.Option(help="Random shifts of up to 2 px, on the device.")] = True,
    ema: Annotated[
        bool, typer.Option(help="Evaluate an exponential moving average of the weights (final mode).")
    ] = True,
    patience: Annotated[
        int, typer.Option(help="Transfer: stop after this many epochs without a better validation score.")
    ] = 5,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:N or mps.")] = "auto",
    storage: Annotated[str | None, typer.Option(help="Storage URL, when the run used --storage.")] = None,
    data_dir: Annotated[str | None, typer.Option(help="Where to look for MNIST files first.")] = None,
    image_size: Annotated[int | None, typer.Option(help="Resize folder: images to N x N.")] = None,
    color: Annotated[str, typer.Option(help="folder: images as auto, gray or rgb.")] = "auto",
) -> None:
    """Train the chosen model to its best test accuracy, or transfer it to new data."""
    from dsdnas.api_finetune import finetune

    result = finetune(
        run,
        trial=trial,
        pick=pick,
        epochs=epochs,
        out=out,
        init=init,
        dataset=dataset,
        freeze=freeze,
        resume=resume,
        batch_size=batch_size,
        lr=lr,
        label_smoothing=label_smoothing,
        augment=augment,
        ema=ema,
        patience=patience,
        seed=seed,
        device=device,
        storage=storage,
        data_dir=data_dir,
        image_size=image_size,
        color=color,
    )
    metrics = result.metrics
    console.print(
        f"trial {metrics['trial']} ({metrics['mode']}): test accuracy {percent(metrics['test_accuracy'])} "
        f"after {metrics['epochs']} epochs in {metrics['train_s']:.1f} s"
    )
    console.print(f"written to {result.out_dir}; export it with: dsdnas export {result.out_dir}")
