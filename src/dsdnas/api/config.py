"""One dataclass of options per command, built once and passed whole.

The CLI builds a config from its options; a notebook builds one directly or passes the same names as keywords
(`dsdnas.search(budget=6, epochs=1)`). Defaults live here only: the CLI shows them in its --help. `validate()`
checks every option's range before anything is created, and its errors name the option; it returns the config with
each option parsed into its typed value (`SearchConfig.budget` a `Budget`, `objectives` a tuple of names, accuracy
first), so nothing downstream parses an option again. Fields are keyword-only. This module imports no torch, so the
CLI can read it at start-up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from dsdnas.api._checks import check, check_fraction, check_latency, check_out, check_positive
from dsdnas.errors import DsdnasError
from dsdnas.search_spaces import DEFAULT_SPACE

if TYPE_CHECKING:
    from dsdnas.nas.search.budget import Budget

COLORS = ("auto", "gray", "rgb")
INITS = ("scratch", "search")
EXPORT_FORMATS = ("py", "onnx", "torchscript")
MAX_JOBS = 64

Config = TypeVar("Config")


def make_config(cls: type[Config], base: Config | None, options: dict[str, Any]) -> Config:
    """`base` (or the defaults) with `options` replaced; an unknown name is a one-line error."""
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(options) - names)
    if unknown:
        raise DsdnasError(f"unknown option(s) {', '.join(unknown)}; {cls.__name__} takes {', '.join(sorted(names))}")
    return replace(base or cls(), **options)


def _check_shared(config: SearchConfig | FinetuneConfig) -> None:
    """Options the search and the fine-tune share."""
    check(config.epochs >= 1, f"--epochs {config.epochs} must be at least 1")
    check(config.batch_size >= 2, f"--batch-size {config.batch_size} must be at least 2 (BatchNorm needs 2 images)")
    check_fraction("--val-fraction", config.val_fraction)
    check_fraction("--label-smoothing", config.label_smoothing, low_open=False)
    check(config.color in COLORS, f"--color {config.color!r} must be one of {', '.join(COLORS)}")
    check(config.image_size is None or config.image_size >= 1, f"--image-size {config.image_size} must be >= 1")
    check_out(config.out)
    from dsdnas.nas.hardware import resolve_device

    resolve_device(config.device)  # a device this machine lacks is refused here, before any work


@dataclass(frozen=True, kw_only=True)
class SearchConfig:
    """The options of `dsdnas search`; see `dsdnas search --help` for each one."""

    budget: str | int | Budget = 50  # a Budget once validated
    dataset: str | None = None  # None: mnist when available, else the bundled mnist-sample
    space: str = DEFAULT_SPACE
    epochs: int = 3
    batch_size: int = 64
    objectives: tuple[str, ...] | str = ("accuracy", "macs")  # a tuple, accuracy first, once validated
    # TPE with a falling share of front members' mutations: best final hypervolume in 3 of 4 bench_search sets (180 s)
    sampler: str = "tpe+mutate"
    seed: int = 0
    device: str = "auto"
    out: str | Path | None = None
    reference: str | Path | None = None  # a CSV of published points, kept as RUN/references.csv
    storage: str | None = None
    study: str | None = None
    val_fraction: float = 0.1
    train_limit: int | None = None
    max_macs: float | None = None
    max_params: float | None = None
    max_latency_ms: float | None = None
    latency_runtime: str = "torch"  # torch, torchscript or onnxruntime (nas/model/runtimes.py)
    latency_threads: int | None = None  # CPU threads a candidate is timed on; None: all
    latency_lut: str | Path | None = None  # a lut.json whose sums stand for timing (dsdnas lut)
    augment: bool = False
    optimizer: str = "adamw"
    schedule: str = "onecycle"
    label_smoothing: float = 0.0
    data_dir: str | None = None
    image_size: int | None = None
    color: str = "auto"
    jobs: int = 1  # candidates trained at once on this machine, as processes sharing the study
    threads: int | None = None  # CPU threads per job for training; None: this machine's CPUs / jobs
    # Stop the worst at rungs (nas/search/rungs.py): once, one rung in steps keeping half (the best front per minute
    # in bench_search); on, two keeping a third each; epochs, at whole epochs on val accuracy; off, train all.
    early_stop: str = "once"
    artifacts: str | None = None  # a folder or s3://BUCKET every worker can read and write

    @property
    def objective_names(self) -> tuple[str, ...]:
        if isinstance(self.objectives, str):
            return tuple(name.strip() for name in self.objectives.split(",") if name.strip())
        return tuple(self.objectives)

    def validate(self) -> SearchConfig:
        """Check every option's range; returns the config with its budget and objectives parsed."""
        from dsdnas.nas.search.budget import parse_budget
        from dsdnas.nas.search.objective import Limits
        from dsdnas.nas.search.rungs import EARLY_STOP
        from dsdnas.nas.search.samplers import check_sampler
        from dsdnas.nas.search.study import check_objectives
        from dsdnas.nas.training.config import check_optimizer, check_schedule

        budget = parse_budget(self.budget)
        objectives = check_objectives(self.objective_names)
        check_sampler(self.sampler)
        _check_shared(self)
        check_optimizer(self.optimizer)
        check_schedule(self.schedule)
        check(self.train_limit is None or self.train_limit >= 2, f"--train-limit {self.train_limit} must be >= 2")
        check(1 <= self.jobs <= MAX_JOBS, f"--jobs {self.jobs} must be from 1 to {MAX_JOBS}")
        check(self.threads is None or self.threads >= 1, f"--threads {self.threads} must be at least 1")
        check(self.early_stop in EARLY_STOP, f"--early-stop {self.early_stop!r} must be one of {', '.join(EARLY_STOP)}")
        check(self.storage is None or bool(self.storage.strip()), "--storage is empty: give a storage URL")
        check(
            self.artifacts is None or not self.artifacts.startswith("s3://") or self.artifacts.count("/") == 2,
            f"--artifacts {self.artifacts}: give a folder or s3://BUCKET",
        )
        Limits(max_macs=self.max_macs, max_params=self.max_params, max_latency_ms=self.max_latency_ms)
        check_latency(self.latency_runtime, self.latency_lut, self.latency_threads)
        if self.reference is not None:
            from dsdnas.reports._references import read_references  # pandas only, not the plots

            read_references(self.reference)  # refused before the run directory is created
        return replace(self, budget=budget, objectives=objectives)


@dataclass(frozen=True, kw_only=True)
class ModelChoice:
    """Which trained model of a run a command means: a trial number, or a pick."""

    trial: int | None = None
    pick: str | None = None  # best (default) or knee
    max_latency_ms: float | None = None  # the most accurate model within these
    max_macs: float | None = None
    finetuned: bool = False  # the fine-tuned model of the chosen trial, and an error when it has none
    search_weights: bool = False  # the weights of the search, even when the trial has a fine-tune

    def validate(self) -> ModelChoice:
        from dsdnas.nas.search.select import PICKS

        check(self.trial is None or self.trial >= 0, f"--trial {self.trial} must be >= 0")
        check(self.pick is None or self.pick in PICKS, f"--pick {self.pick!r} must be one of {', '.join(PICKS)}")
        check_positive("--max-latency-ms", self.max_latency_ms)
        check_positive("--max-macs", self.max_macs)
        check(not (self.finetuned and self.search_weights), "pass --finetuned or --search-weights, not both")
        # One way to choose: a choice that another overrides would be dropped without a word.
        budget = self.max_latency_ms is not None or self.max_macs is not None
        ways = {"--trial": self.trial is not None, "--pick": self.pick is not None,
                "--max-latency-ms/--max-macs": budget}  # fmt: skip
        given = [name for name, used in ways.items() if used]
        if len(given) > 1:
            raise DsdnasError(f"{given[0]} and {given[1]} each choose the model: pass one of them")
        return self

    @property
    def choice(self) -> ModelChoice:
        """Only the choice, whatever command's config carries it."""
        return ModelChoice(**{f.name: getattr(self, f.name) for f in fields(ModelChoice)})


@dataclass(frozen=True, kw_only=True)
class FinetuneConfig:
    """The options of `dsdnas finetune`; see `dsdnas finetune --help` for each one."""

    trial: int | None = None
    pick: str | None = None
    front: bool = False  # every member of the Pareto front, one after another (`finetune_front`)
    top: int | None = None  # K front members spread over the cost range (`finetune_front`)
    epochs: int = 30
    out: str | Path | None = None
    init: str = "scratch"
    dataset: str | None = None  # None: retrain on the run's own data; else transfer
    freeze: str = "none"
    resume: bool = False
    batch_size: int = 64
    lr: float | None = None
    label_smoothing: float = 0.1
    augment: bool = True
    ema: bool = True
    patience: int = 5
    val_fraction: float = 0.1
    seed: int = 0
    device: str = "auto"
    storage: str | None = None
    artifacts: str | None = None  # default: the store the run recorded
    data_dir: str | None = None
    image_size: int | None = None
    color: str = "auto"

    @property
    def choice(self) -> ModelChoice:
        return ModelChoice(trial=self.trial, pick=self.pick, search_weights=True)  # it retrains the architecture

    def validate(self) -> FinetuneConfig:
        from dsdnas.nas.training.finetune import parse_freeze

        self.choice.validate()
        check(self.top is None or self.top >= 1, f"--top {self.top} must be at least 1")
        if self.front or self.top is not None:
            flag = "--front" if self.top is None else f"--top {self.top}"
            clashes = {"--trial": self.trial is not None, "--pick": self.pick is not None,
                       "--dataset": self.dataset is not None, "--out": self.out is not None}  # fmt: skip
            clash = next((name for name, given in clashes.items() if given), None)
            check(clash is None, f"{flag} fine-tunes front members into RUN/finetune/<n>: drop {clash}")
        check(self.init in INITS, f"--init {self.init!r} must be one of {', '.join(INITS)}")
        _check_shared(self)
        parse_freeze(self.freeze)
        check(self.patience >= 1, f"--patience {self.patience} must be at least 1")
        check(self.lr is None or (self.lr > 0 and math.isfinite(self.lr)), f"--lr {self.lr} must be positive")
        return self


@dataclass(frozen=True, kw_only=True)
class ExportConfig(ModelChoice):
    """The options of `dsdnas export`: which model (those of `ModelChoice`), then where and how to write it."""

    out: str | Path | None = None
    name: str = "Net"
    formats: tuple[str, ...] | str = ("py",)
    storage: str | None = None
    artifacts: str | None = None  # default: the store the run recorded
    data_dir: str | None = None
    latency_runtime: str | None = None  # time the model now in this runtime for model.py; None: the search's figure
    latency_threads: int | None = None  # time it now on this many CPU threads (in latency_runtime, else the search's)

    @property
    def format_names(self) -> tuple[str, ...]:
        """py always (the source and weights are always written), then the others asked for."""
        names = self.formats.split(",") if isinstance(self.formats, str) else self.formats
        names = tuple(name.strip() for name in names if name.strip())
        return ("py", *(name for name in names if name != "py"))

    def validate(self) -> ExportConfig:
        from dsdnas.nas.model.codegen import check_class_name

        super().validate()
        check_out(self.out)
        unknown = [name for name in self.format_names if name not in EXPORT_FORMATS]
        check(not unknown, f"--format {','.join(unknown)}: use {', '.join(EXPORT_FORMATS)}")
        check_class_name(self.name)
        if self.latency_runtime is not None or self.latency_threads is not None:
            check_latency(self.latency_runtime or "torch", None, self.latency_threads)
        return self


@dataclass(frozen=True, kw_only=True)
class BaselineConfig:
    """The options of `dsdnas baseline`; see `dsdnas baseline --help` for each one."""

    model: str = "seed-cnn"
    hidden: int | None = None  # units of an mlp's hidden layer; None: 64
    weights: str | None = None  # a state dict file, or DEFAULT for torchvision's own
    freeze: str = "none"  # none, head, partial:K
    epochs: int | None = None  # None: the fine-tune default
    test: bool = False  # train on all of train and score once on test, as `dsdnas finetune` does
    batch_size: int = 64
    lr: float | None = None
    label_smoothing: float = 0.1
    augment: bool = True
    seed: int = 0
    device: str = "auto"
    latency_runtime: str = "torch"  # where its latency is measured (nas/model/runtimes.py)
    latency_threads: int | None = None  # on how many CPU threads; None: the run's --latency-threads, else all
    storage: str | None = None
    data_dir: str | None = None

    @property
    def epoch_count(self) -> int:
        return self.epochs if self.epochs is not None else FinetuneConfig().epochs

    def validate(self) -> BaselineConfig:
        from dsdnas.nas.baselines.zoo import torchvision_name
        from dsdnas.nas.hardware import resolve_device
        from dsdnas.nas.training.finetune import parse_freeze

        torchvision_name(self.model)  # an unknown model is one line naming the known ones
        check(self.hidden is None or self.model == "mlp", f"--hidden applies to --model mlp, not {self.model}")
        check(self.hidden is None or self.hidden >= 1, f"--hidden {self.hidden} must be at least 1")
        parse_freeze(self.freeze)
        check(self.epochs is None or self.epochs >= 1, f"--epochs {self.epochs} must be at least 1")
        check(self.batch_size >= 2, f"--batch-size {self.batch_size} must be at least 2 (BatchNorm needs 2 images)")
        check(self.lr is None or (self.lr > 0 and math.isfinite(self.lr)), f"--lr {self.lr} must be positive")
        check_fraction("--label-smoothing", self.label_smoothing, low_open=False)
        check(
            self.weights is None or self.weights == "DEFAULT" or Path(self.weights).expanduser().is_file(),
            f"--weights {self.weights}: no such file (or DEFAULT for torchvision's own weights)",
        )
        resolve_device(self.device)
        check_latency(self.latency_runtime, None, self.latency_threads)
        return self
