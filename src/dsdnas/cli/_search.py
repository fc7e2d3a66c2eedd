"""`dsdnas search` and `dsdnas trials`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dsdnas.cli._common import console, handle_errors, human, interactive, percent
from dsdnas.cli._progress import PlainObserver, RichObserver, front_table
from dsdnas.search_spaces import DEFAULT_SPACE


@handle_errors
def search_command(
    budget: Annotated[
        str, typer.Option(help="Finished trials in total (50), or wall time for this run (90s, 30m, 2h).")
    ] = "50",
    dataset: Annotated[
        str | None,
        typer.Option(
            help="mnist, fashion-mnist, mnist-sample, folder:PATH or npz:PATH. "
            "Default: mnist if available, else mnist-sample."
        ),
    ] = None,
    space: Annotated[str, typer.Option(help="Built-in search space name or a .toml file.")] = DEFAULT_SPACE,
    epochs: Annotated[int, typer.Option(help="Training epochs per candidate.")] = 3,
    batch_size: Annotated[int, typer.Option(help="Training batch size.")] = 64,
    objectives: Annotated[
        str, typer.Option(help="accuracy plus one or more of macs, params, latency.")
    ] = "accuracy,macs",
    sampler: Annotated[str, typer.Option(help="tpe, nsga2 or random.")] = "tpe",
    seed: Annotated[int, typer.Option(help="Seed for sampler, splits and training.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:N or mps.")] = "auto",
    out: Annotated[Path | None, typer.Option(help="Run directory. Default: runs/<study>.")] = None,
    storage: Annotated[
        str | None, typer.Option(help="Optuna storage URL (e.g. postgresql://...). Default: RUN/study.db.")
    ] = None,
    study: Annotated[str | None, typer.Option(help="Study name. Default: <space>-<dataset>.")] = None,
    max_macs: Annotated[float | None, typer.Option(help="Never train candidates above this many MACs.")] = None,
    max_params: Annotated[float | None, typer.Option(help="Never train candidates above this many parameters.")] = None,
    max_latency_ms: Annotated[
        float | None, typer.Option(help="Never train candidates slower than this (batch 1, median).")
    ] = None,
    val_fraction: Annotated[float, typer.Option(help="Validation share carved from train, stratified.")] = 0.1,
    train_limit: Annotated[int | None, typer.Option(help="Search on a stratified subset of N training images.")] = None,
    augment: Annotated[bool, typer.Option(help="Random shifts of up to 2 px, on the device.")] = False,
    optimizer: Annotated[str, typer.Option(help="adamw or sgd.")] = "adamw",
    schedule: Annotated[str, typer.Option(help="onecycle, cosine or constant.")] = "onecycle",
    label_smoothing: Annotated[float, typer.Option(help="Label smoothing for the training loss.")] = 0.0,
    data_dir: Annotated[str | None, typer.Option(help="Where to look for MNIST / Fashion-MNIST files first.")] = None,
    image_size: Annotated[int | None, typer.Option(help="Resize folder: images to N x N.")] = None,
    color: Annotated[str, typer.Option(help="folder: images as auto, gray or rgb.")] = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", help="Plain log lines instead of the live view.")] = False,
) -> None:
    """Search architectures: a multi-objective Optuna study, resumable by rerunning."""
    import optuna

    from dsdnas.api import search

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    observer = PlainObserver() if quiet or not interactive() else RichObserver()
    try:
        result = search(
            budget=budget,
            dataset=dataset,
            space=space,
            epochs=epochs,
            batch_size=batch_size,
            objectives=objectives,
            sampler=sampler,
            seed=seed,
            device=device,
            out=out,
            storage=storage,
            study=study,
            val_fraction=val_fraction,
            train_limit=train_limit,
            max_macs=max_macs,
            max_params=max_params,
            max_latency_ms=max_latency_ms,
            augment=augment,
            optimizer=optimizer,
            schedule=schedule,
            label_smoothing=label_smoothing,
            data_dir=data_dir,
            image_size=image_size,
            color=color,
            observer=observer,
        )
    finally:
        if isinstance(observer, RichObserver) and observer.live.is_started:
            observer.live.stop()
    console.print(front_table(result.front, title=f"Pareto front of {result.study.study_name}"))
    console.print(f"run directory: {result.run_dir}")


@handle_errors
def trials_command(
    run: Annotated[Path, typer.Argument(help="Run directory written by dsdnas search.")],
    pareto: Annotated[bool, typer.Option("--pareto", help="Only the Pareto front.")] = False,
    storage: Annotated[str | None, typer.Option(help="Storage URL, when the run used --storage.")] = None,
) -> None:
    """Print the trials of a run."""
    from dsdnas.api import load_run
    from dsdnas.nas.results import trials_frame

    _, study, _ = load_run(run, storage)
    frame = trials_frame(study)
    if pareto:
        frame = frame[frame["pareto"]]
    table = Table(title=f"{study.study_name}: {len(frame)} trials", title_justify="left")
    for column in ("trial", "status", "accuracy", "MACs", "params", "latency", "pareto", "notation"):
        table.add_column(column, justify="left" if column in ("status", "notation") else "right")
    for row in frame.to_dict("records"):
        latency = row["latency_ms"]
        table.add_row(
            str(row["trial"]),
            row["status"] if not row["reason"] else f"{row['status']}: {row['reason']}",
            percent(row["accuracy"]),
            human(row["macs"]),
            human(row["params"]),
            "-" if latency != latency or latency is None else f"{latency:.3f} ms",
            "*" if row["pareto"] else "",
            row["notation"],
        )
    console.print(table)
