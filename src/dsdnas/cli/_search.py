"""`dsdnas search`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dsdnas.api.config import SearchConfig
from dsdnas.cli._common import config_from, console, handle_errors, interactive
from dsdnas.cli._front import front_table, next_steps
from dsdnas.cli._options import (
    ArtifactsOption,
    AugmentOption,
    BatchSizeOption,
    ColorOption,
    DataDirOption,
    DeviceOption,
    ImageSizeOption,
    LabelSmoothingOption,
    LatencyRuntimeOption,
    LatencyThreadsOption,
    ReferenceOption,
    SeedOption,
    StorageOption,
    ValFractionOption,
)
from dsdnas.cli._progress import PlainObserver, RichObserver

_DEFAULT = SearchConfig()


@handle_errors
def search_command(
    *,  # Typer passes every option by name
    budget: Annotated[
        str, typer.Option(help="Finished trials in total (50), or wall time for this run (90s, 30m, 2h).")
    ] = str(_DEFAULT.budget),
    dataset: Annotated[
        str | None,
        typer.Option(
            help="mnist, fashion-mnist, mnist-sample, folder:PATH or npz:PATH. "
            "Default: mnist if available, else mnist-sample."
        ),
    ] = _DEFAULT.dataset,
    space: Annotated[str, typer.Option(help="Built-in search space name or a .toml file.")] = _DEFAULT.space,
    epochs: Annotated[int, typer.Option(help="Training epochs per candidate.")] = _DEFAULT.epochs,
    batch_size: BatchSizeOption = _DEFAULT.batch_size,
    objectives: Annotated[str, typer.Option(help="accuracy plus one or more of macs, params, latency.")] = ",".join(
        _DEFAULT.objective_names
    ),
    sampler: Annotated[
        str,
        typer.Option(
            help="tpe+mutate (TPE and mutations of front members), tpe+mutate+synflow (its start-up picked by"
            " synflow), tpe, nsga2 or random."
        ),
    ] = _DEFAULT.sampler,
    seed: SeedOption = _DEFAULT.seed,
    device: DeviceOption = _DEFAULT.device,
    out: Annotated[Path | None, typer.Option(help="Run directory. Default: runs/<study>.")] = None,
    reference: ReferenceOption = _DEFAULT.reference,
    storage: StorageOption = _DEFAULT.storage,
    artifacts: ArtifactsOption = _DEFAULT.artifacts,
    study: Annotated[str | None, typer.Option(help="Study name. Default: <space>-<dataset>.")] = _DEFAULT.study,
    max_macs: Annotated[float | None, typer.Option(help="Never train candidates above this many MACs.")] = None,
    max_params: Annotated[float | None, typer.Option(help="Never train candidates above this many parameters.")] = None,
    max_latency_ms: Annotated[
        float | None, typer.Option(help="Never train candidates slower than this (batch 1, median).")
    ] = None,
    latency_runtime: LatencyRuntimeOption = _DEFAULT.latency_runtime,
    latency_threads: LatencyThreadsOption = _DEFAULT.latency_threads,
    latency_lut: Annotated[
        Path | None,
        typer.Option(
            help="A latency table made by dsdnas lut on the target device: each candidate's latency is the sum "
            "of its layers' entries there, and no candidate is timed here.",
            metavar="LUT.json",
        ),
    ] = _DEFAULT.latency_lut,
    val_fraction: ValFractionOption = _DEFAULT.val_fraction,
    train_limit: Annotated[
        int | None, typer.Option(help="Search on a stratified subset of N training images.")
    ] = _DEFAULT.train_limit,
    augment: AugmentOption = _DEFAULT.augment,
    optimizer: Annotated[str, typer.Option(help="adamw or sgd.")] = _DEFAULT.optimizer,
    schedule: Annotated[str, typer.Option(help="onecycle, cosine or constant.")] = _DEFAULT.schedule,
    label_smoothing: LabelSmoothingOption = _DEFAULT.label_smoothing,
    data_dir: DataDirOption = _DEFAULT.data_dir,
    image_size: ImageSizeOption = _DEFAULT.image_size,
    color: ColorOption = _DEFAULT.color,
    jobs: Annotated[
        int, typer.Option(help="Candidates trained at once, as processes sharing the study; CPU threads are split.")
    ] = _DEFAULT.jobs,
    early_stop: Annotated[
        str,
        typer.Option(
            help="once: stop a candidate after 1/9 of its training steps unless in the top half (Pareto); "
            "on: after 1/9 and 1/3, unless in the top third; epochs: judge at whole epochs (E/9, E/3) on "
            "validation accuracy; off: train all to the end."
        ),
    ] = _DEFAULT.early_stop,
    threads: Annotated[
        int | None,
        typer.Option(help="CPU threads each job trains with. Default: this machine's CPUs divided by --jobs."),
    ] = _DEFAULT.threads,
    quiet: Annotated[bool, typer.Option("--quiet", help="Plain log lines instead of the live view.")] = False,
) -> None:
    """Search architectures: a multi-objective Optuna study, resumable by rerunning."""
    import optuna

    from dsdnas.api import search

    config = config_from(SearchConfig, locals())
    # Errors only: Optuna logs each failed trial with a traceback; dsdnas says it in one line.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    observer = PlainObserver() if quiet or not interactive() else RichObserver()
    try:
        result = search(config=config, observer=observer)
    finally:
        if isinstance(observer, RichObserver) and observer.live.is_started:
            observer.live.stop()
    title = f"Pareto front of {result.study.study_name}, by cost"
    console.print(front_table(result.front, title=title, tuned=result.tuned, width=console.width))
    console.print(f"run directory: {result.run_dir}", soft_wrap=True)
    for line in next_steps(result.run_dir, result.front, result.storage):
        # Commands are never wrapped, so they paste whole; prose wraps at words.
        console.print(line, soft_wrap=line.startswith("  dsdnas "), markup=False)
