"""`dsdnas.export(...)`: pick a model from a run (or a fine-tune folder) and export it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from dsdnas.api._checks import writing_out
from dsdnas.api._runs import Run, load_dataset_cached, load_run
from dsdnas.api.config import ExportConfig, ModelChoice, make_config
from dsdnas.errors import ExportError, RunError
from dsdnas.nas.files import file_sha256
from dsdnas.nas.hardware import hostname
from dsdnas.nas.model.costs import LATENCY_REPEATS, quiet_latency
from dsdnas.nas.model.runtimes import DEFAULT_RUNTIME
from dsdnas.nas.runs.artifacts import (
    StoredModel,
    finished_finetune,
    is_finetune_dir,
    load_finetune_model,
    load_trial_model,
)
from dsdnas.nas.runs.export import ExportResult, export_model, foreign_files, latency_lines
from dsdnas.nas.runs.rundir import EXPORT_DIR, WEIGHTS_FILE
from dsdnas.nas.runs.store import fetch_trial_files, open_store
from dsdnas.nas.search.end_latency import SHOWN, end_figure, end_latencies, finetune_latency, finetune_run
from dsdnas.nas.search.select import select_trial
from dsdnas.nas.search.shipped import choose_member, read_shipped
from dsdnas.version import __version__

VERIFY_IMAGES = 64  # real training images the export is checked on


def resolve_model(run: Run, choice: ModelChoice, artifacts: str | None = None) -> StoredModel:
    """The stored model `choice` means in an opened run: the best weights it has for the chosen trial.

    Once `finetune --front` has fine-tuned every member it named, --pick and the budgets choose
    among those members by their test accuracy. Otherwise the chosen trial ships its fine-tune
    when it has one (see `finished_finetune`), unless `choice.search_weights`;
    `choice.finetuned` makes a missing fine-tune an error. A trial trained by another worker
    is fetched from the shared artifact store (`artifacts`, else the one the run recorded)
    into this run folder first.
    """
    timed = end_latencies(run.run_dir)
    if choice.trial is None and not choice.search_weights:
        shipped = read_shipped(run.run_dir)
        if shipped is not None and shipped.complete:  # the front is fine-tuned: choose by test accuracy
            member = choose_member(
                shipped, pick=choice.pick, max_latency_ms=choice.max_latency_ms, max_macs=choice.max_macs
            )
            stored = _finetune_model(member.folder, timed)
            stored.chosen_from = f"chosen from the shipped front ({len(shipped.finished)} members) by test accuracy"
            return stored
    chosen = select_trial(  # its latency: the one timed at the end of the search where there is one
        run.study,
        trial=choice.trial,
        pick=choice.pick,
        max_latency_ms=choice.max_latency_ms,
        max_macs=choice.max_macs,
        timed=timed,
    )
    tuned = finished_finetune(run.run_dir, chosen.number, run.dataset)
    if tuned is not None and not choice.search_weights:
        return _finetune_model(tuned, timed)
    if choice.finetuned:
        raise RunError(
            f"trial {chosen.number} has not been fine-tuned: "
            f"run `dsdnas finetune {run.run_dir.root} --trial {chosen.number}`"
        )
    location = artifacts or run.meta.get("artifacts")
    folder = run.run_dir.trial_dir(chosen.number)
    if location and chosen.artifacts and not _has_weights(folder, chosen.weights_sha256):
        fetch_trial_files(
            open_store(location), chosen.artifacts, folder, sha256=chosen.weights_sha256, location=location
        )
    stored = load_trial_model(
        run.run_dir, chosen.number, run.meta, sha256=chosen.weights_sha256, worker=chosen.worker, origin=chosen.folder
    )
    stored.metrics.update({key: getattr(chosen, key) for key in SHOWN})  # one figure per model: model.py's too
    if figure := end_figure(chosen, timed):  # timed where the end ran, which need not be where it trained
        stored.metrics["latency_device"] = figure["latency_device"]
    if tuned is not None:  # --search-weights passed it over: said instead of the command that would fine-tune it
        stored.chosen_from = f"--search-weights: its fine-tune ({tuned}) is left aside"
    return stored


def _finetune_model(folder: Path, timed: dict[int, dict[str, Any]] | None = None) -> StoredModel:
    """A fine-tune's model, its latency brought up to date with its run's end (`finetune_latency`); `timed` is
    that run's `end_latencies` when the caller has read them, else they are read from the folder's run."""
    stored = load_finetune_model(folder)
    timed = end_latencies(finetune_run(folder)) if timed is None else timed
    stored.metrics.update(finetune_latency(stored.metrics, timed))
    return stored


def _has_weights(folder: Path, sha256: str | None) -> bool:
    weights = folder / WEIGHTS_FILE
    return weights.exists() and (sha256 is None or file_sha256(weights) == sha256)


def verification_images(stored: StoredModel, data_dir: str | None = None) -> torch.Tensor:
    dataset = load_dataset_cached(stored.dataset, data_dir=data_dir, image_size=stored.image_size, color=stored.color)
    return dataset.x_train[:VERIFY_IMAGES]


def export(run: str | Path, /, *, config: ExportConfig | None = None, **options: Any) -> ExportResult:
    """Export the chosen model as model.py + weights.safetensors, verified; see `dsdnas export --help`.

    `run` is a run directory or a fine-tune folder. Pass an `ExportConfig`, or its fields
    as keywords: `export("runs/demo", pick="knee", out="shipped")`.
    """
    config = make_config(ExportConfig, config, options).validate()
    taken = foreign_files(config.out, config.format_names) if config.out is not None else []
    if taken:  # a user's own files: never replaced without a word
        raise ExportError(
            f"--out {config.out} already holds {', '.join(taken)}, which dsdnas export did not write: "
            f"pass another --out (nothing was written)"
        )
    meta: dict = {}  # run.json's, for a model of a run (a fine-tune folder has none)
    if is_finetune_dir(Path(run)):
        stored = _finetune_model(Path(run))
        default_out = stored.folder / EXPORT_DIR
    else:
        opened = load_run(run, config.storage)
        meta = opened.meta
        stored = resolve_model(opened, config.choice, config.artifacts)
        default_out = stored.folder / EXPORT_DIR if stored.finetuned else opened.run_dir.export_dir(stored.trial)
    images = verification_images(stored, config.data_dir)
    if config.latency_runtime is None and config.latency_threads is None:
        latency = latency_lines(stored, meta.get("latency_table"))
    else:  # --latency-threads alone: in the search's runtime
        runtime = config.latency_runtime or meta.get("latency_runtime", DEFAULT_RUNTIME)
        latency = _measured_now(stored, runtime, config.latency_threads)
    with writing_out(config.out):
        return export_model(
            stored,
            config.out or default_out,
            images,
            class_name=config.name,
            formats=config.format_names,
            version=__version__,
            latency=latency,
        )


def _measured_now(stored: StoredModel, runtime: str, threads: int | None) -> list[str]:
    """--latency-runtime or --latency-threads: the model timed here, now, in that runtime on that many threads
    (on the CPU, where models ship)."""
    cpu, shape = torch.device("cpu"), stored.arch.input_shape
    latency = quiet_latency(stored.build(), shape, cpu, repeats=LATENCY_REPEATS, runtime=runtime, threads=threads)
    return [
        f"Latency: {latency.p50_ms:.3f} ms (median, batch 1, cpu, {runtime} {latency.threads} threads; "
        f"measured at export on {hostname()})"
    ]
