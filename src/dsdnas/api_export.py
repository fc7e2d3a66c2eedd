"""`dsdnas.export(...)`: pick a model from a run (or a fine-tune folder) and export it."""

from __future__ import annotations

from pathlib import Path

from dsdnas.api import load_dataset_cached, load_run
from dsdnas.errors import RunError
from dsdnas.nas.artifacts import StoredModel, is_finetune_dir, load_finetune_model, load_trial_model
from dsdnas.nas.export import ExportResult, export_model
from dsdnas.nas.select import select_trial

VERIFY_IMAGES = 64  # real training images the export is checked on


def resolve_model(
    run: str | Path,
    trial: int | None = None,
    pick: str | None = None,
    max_latency_ms: float | None = None,
    max_macs: float | None = None,
    finetuned: bool = False,
    storage: str | None = None,
) -> StoredModel:
    """The stored model a command means: a fine-tune folder, or a trial chosen from a run."""
    if is_finetune_dir(Path(run)):
        return load_finetune_model(Path(run))
    run_dir, study, meta = load_run(run, storage)
    chosen = select_trial(study, trial, pick, max_latency_ms, max_macs)
    if finetuned:
        folder = run_dir.finetune_root / str(chosen.number)
        if not folder.exists():
            raise RunError(
                f"trial {chosen.number} has not been fine-tuned: run `dsdnas finetune {run} --trial {chosen.number}`"
            )
        return load_finetune_model(folder)
    return load_trial_model(run_dir, chosen.number, meta)


def verification_images(stored: StoredModel, data_dir: str | None = None):
    dataset = load_dataset_cached(stored.dataset, data_dir, stored.image_size, stored.color)
    return dataset.x_train[:VERIFY_IMAGES]


def export(
    run: str | Path,
    trial: int | None = None,
    pick: str | None = None,
    max_latency_ms: float | None = None,
    max_macs: float | None = None,
    out: str | Path | None = None,
    name: str = "Net",
    formats: tuple[str, ...] = ("py",),
    finetuned: bool = False,
    storage: str | None = None,
    data_dir: str | None = None,
) -> ExportResult:
    """Export the chosen model as model.py + weights.safetensors, verified; see `dsdnas export --help`."""
    from dsdnas import __version__

    stored = resolve_model(run, trial, pick, max_latency_ms, max_macs, finetuned, storage)
    default_out = stored.folder / "export" if stored.finetuned else Path(run) / "export" / f"trial-{stored.trial}"
    images = verification_images(stored, data_dir)
    return export_model(stored, out or default_out, images, name, tuple(formats), __version__)
