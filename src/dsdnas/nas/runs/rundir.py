"""The run directory: every file name dsdnas writes, in one place.

    RUN/study.db                SQLite Optuna storage (unless --storage names another)
    RUN/run.json                the settings and dataset statistics of the run
    RUN/trials.csv              one row per trial
    RUN/trials/<n>/             arch.json, weights.safetensors, metrics.json of trial n
    RUN/pareto.json             the Pareto front
    RUN/front_latency.json      the latencies the end timed, back to back: the front and every untimed trained model
    RUN/report.html             the report
    RUN/finetune/<n>/           a fine-tune: the trial files plus finetune.json,
                                curves.csv and checkpoint.pt
    RUN/export/trial-<n>/       an export: model.py and weights.safetensors
    RUN/baselines/<name>/       a reference model trained on the run's split: weights.safetensors,
                                metrics.json, baseline.json (what it is and how it was adapted)
    RUN/claim.lock              held while a search opens its study or decides to start a trial

Every file is written through `dsdnas.nas.files.atomic_write`.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from dsdnas.errors import RunError

STUDY_DB = "study.db"
RUN_JSON = "run.json"
TRIALS_CSV = "trials.csv"
PARETO_JSON = "pareto.json"
FRONT_LATENCY_JSON = "front_latency.json"
REPORT_HTML = "report.html"
CLAIM_LOCK = "claim.lock"
TRIALS_DIR = "trials"
FINETUNE_DIR = "finetune"
EXPORT_DIR = "export"
BASELINES_DIR = "baselines"

# In a trial, fine-tune or export folder.
ARCH_FILE = "arch.json"
WEIGHTS_FILE = "weights.safetensors"
METRICS_FILE = "metrics.json"
FINETUNE_FILE = "finetune.json"  # marks a fine-tune folder: its provenance and data
BASELINE_FILE = "baseline.json"  # marks a baseline folder: the model, its weights and its adaptations
CHECKPOINT_FILE = "checkpoint.pt"
CURVES_FILE = "curves.csv"
MODEL_FILE = "model.py"
ONNX_FILE = "model.onnx"
TORCHSCRIPT_FILE = "model.pt"


class RunDir:
    """Paths inside one run directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def run_json(self) -> Path:
        return self.root / RUN_JSON

    @property
    def trials_csv(self) -> Path:
        return self.root / TRIALS_CSV

    @property
    def pareto_json(self) -> Path:
        return self.root / PARETO_JSON

    @property
    def front_latency_json(self) -> Path:
        return self.root / FRONT_LATENCY_JSON

    @property
    def report_html(self) -> Path:
        return self.root / REPORT_HTML

    @property
    def finetune_root(self) -> Path:
        return self.root / FINETUNE_DIR

    def trial_dir(self, number: int) -> Path:
        return self.root / TRIALS_DIR / str(number)

    def finetune_dir(self, number: int, dataset_slug: str | None = None) -> Path:
        """RUN/finetune/<n> for the final retrain, RUN/finetune/<n>-<dataset> for a transfer."""
        return self.finetune_root / (str(number) if dataset_slug is None else f"{number}-{dataset_slug}")

    @property
    def baselines_root(self) -> Path:
        return self.root / BASELINES_DIR

    def export_dir(self, number: int) -> Path:
        return self.root / EXPORT_DIR / f"trial-{number}"

    def require(self) -> RunDir:
        """Fail clearly unless this is a run directory that a search wrote; name the closest one if there is."""
        if not self.run_json.exists():
            closest = self.closest_run()
            if closest is not None:
                raise RunError(f"{self.root} is not a dsdnas run directory (no {RUN_JSON}); did you mean {closest}?")
            raise RunError(
                f"{self.root} is not a dsdnas run directory (no {RUN_JSON}); run `dsdnas search --out {self.root}`"
            )
        return self

    def closest_run(self) -> Path | None:
        """The run directory beside this path (or under ./runs) whose name is closest to it, if one is close."""
        folders = {self.root.parent, Path("runs")}
        runs = [
            path
            for folder in folders
            if folder.is_dir()
            for path in folder.iterdir()
            if (path / RUN_JSON).is_file() and path != self.root
        ]
        by_text = {str(path): path for path in runs}
        match = difflib.get_close_matches(str(self.root), list(by_text), n=1, cutoff=0.6)
        return by_text[match[0]] if match else None
