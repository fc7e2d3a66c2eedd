"""One trial of a search: sample, deduplicate, profile, check limits, train, save.

Costs are measured before training, so a candidate over --max-macs, --max-params or
--max-latency-ms is never trained: it is recorded with the reason and the sampler learns
of it through Optuna's constraints. A candidate whose architecture was already trained
is not trained again: the stored result is reused.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field, replace
from typing import Any

import optuna
import torch

from dsdnas.errors import DsdnasError
from dsdnas.nas.arch import Arch
from dsdnas.nas.builder import build_model
from dsdnas.nas.events import SearchObserver
from dsdnas.nas.profile import count_macs, count_params, measure_latency
from dsdnas.nas.rundir import WEIGHTS_FILE, RunDir, save_weights, write_json, write_text
from dsdnas.nas.tensors import DeviceData
from dsdnas.nas.train import TrainConfig, Trainer, TrainResult

OBJECTIVE_DIRECTIONS = {"accuracy": "maximize", "macs": "minimize", "params": "minimize", "latency": "minimize"}
# Objective name -> the trial attribute holding its value.
OBJECTIVE_ATTRS = {"accuracy": "val_accuracy", "macs": "macs", "params": "params", "latency": "latency_ms"}
LATENCY_WARMUP = 10  # untimed forward passes before timing
LATENCY_REPEATS = 30  # timed forward passes; the median is reported


class CandidateFailed(Exception):
    """Training diverged (nan or inf loss); the trial is marked FAIL with the reason."""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Limits:
    max_macs: float | None = None
    max_params: float | None = None
    max_latency_ms: float | None = None

    def __post_init__(self) -> None:
        for option, limit in (
            ("--max-macs", self.max_macs),
            ("--max-params", self.max_params),
            ("--max-latency-ms", self.max_latency_ms),
        ):
            if limit is not None and not limit > 0:  # `not >` also rejects nan
                raise DsdnasError(f"{option} {limit:g} must be a positive number")

    def violations(self, costs: dict[str, float]) -> dict[str, float]:
        """Constraint values per limit: the amount over it (> 0 means infeasible)."""
        pairs = (("macs", self.max_macs), ("params", self.max_params), ("latency_ms", self.max_latency_ms))
        return {key: costs[key] - limit for key, limit in pairs if limit is not None}


def profile_costs(model: torch.nn.Module, arch: Arch, device: torch.device) -> dict[str, Any]:
    """MACs, params, receptive field and batch-1 latency of a freshly built model."""
    started = time.perf_counter()
    model = model.to(device)
    macs = count_macs(model, arch.input_shape)
    latency = measure_latency(model, arch.input_shape, 1, LATENCY_WARMUP, LATENCY_REPEATS, device)
    return {
        "macs": macs.macs,
        "params": count_params(model),
        "receptive_field": arch.receptive_field(),
        "latency_ms": latency.p50_ms,
        "latency_p90_ms": latency.p90_ms,
        "threads": latency.threads,
        "unsupported_ops": macs.unsupported_ops,
        "profile_s": time.perf_counter() - started,
    }


@dataclass
class CandidateObjective:
    """The callable handed to `study.optimize`; returns one value per objective."""

    space: Any  # a SearchSpace: anything with sample(trial, input_shape, num_classes)
    data: DeviceData
    train_config: TrainConfig
    objectives: tuple[str, ...]
    limits: Limits
    run_dir: RunDir
    observer: SearchObserver = field(default_factory=SearchObserver)

    def __call__(self, trial: optuna.Trial) -> list[float]:
        started = time.perf_counter()
        arch = self.space.sample(trial, self.data.input_shape, self.data.num_classes)
        trial.set_user_attr("worker", worker_id())
        trial.set_user_attr("arch", arch.to_dict())
        trial.set_user_attr("notation", arch.notation)
        trial.set_user_attr("arch_hash", arch.hash)
        trial_dir = self.run_dir.trial_dir(trial.number)
        write_text(trial_dir / "arch.json", arch.to_json())

        original = self._trained_twin(trial, arch.hash)
        if original is not None:
            return self._reuse(trial, original, started)

        model = build_model(arch, seed=self.train_config.seed + trial.number)
        costs = profile_costs(model, arch, self.data.device)
        violations = self.limits.violations(costs)
        for key, value in violations.items():
            trial.set_constraint(key, value)
        over = [
            f"{key} {costs[key]:.4g} is over --max-{key.replace('_', '-')} by {v:.4g}"
            for key, v in violations.items()
            if v > 0
        ]
        if over:
            return self._finish(
                trial, arch, costs, {"status": "skipped", "reason": "; ".join(over), "val_accuracy": 0.0}, started
            )

        self.observer.trial_started(trial.number, arch.notation, self.train_config.epochs)
        config = replace(self.train_config, seed=self.train_config.seed + trial.number)
        trainer = Trainer(model, self.data, config)
        try:
            result = trainer.run(on_epoch=lambda stats: self.observer.epoch_finished(trial.number, stats))
        except torch.OutOfMemoryError:  # a candidate too big for the device fails alone
            result = TrainResult(failure=f"out of memory on {self.data.device} at batch {config.batch_size}")
            if self.data.device.type == "cuda":
                torch.cuda.empty_cache()
        outcome = {
            "status": "trained",
            "val_accuracy": result.val_accuracy,
            "val_accuracy_history": [s.val_accuracy for s in result.history],
            "val_loss_history": [s.val_loss for s in result.history],
            "train_loss_history": [s.train_loss for s in result.history],
            "train_s": result.seconds,
            "images_per_s": result.images_per_second,
            "epochs": len(result.history),
            "device": str(self.data.device),
        }
        if result.failure is not None:
            outcome.update(status="failed", reason=result.failure)
            self._finish(trial, arch, costs, outcome, started)
            raise CandidateFailed(result.failure)
        save_weights(trial_dir / WEIGHTS_FILE, trainer.final_model.state_dict(), {"arch_hash": arch.hash})
        return self._finish(trial, arch, costs, outcome, started)

    def _finish(self, trial: optuna.Trial, arch: Arch, costs: dict, outcome: dict, started: float) -> list[float]:
        attrs = {**costs, **outcome, "duration_s": time.perf_counter() - started}
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
        metrics = {"trial": trial.number, "notation": arch.notation, "arch_hash": arch.hash, **attrs}
        metrics.update(mean=list(self.data.mean), std=list(self.data.std))
        write_json(self.run_dir.trial_dir(trial.number) / "metrics.json", metrics)
        return [float(attrs[OBJECTIVE_ATTRS[name]]) for name in self.objectives]

    def _trained_twin(self, trial: optuna.Trial, arch_hash: str) -> optuna.trial.FrozenTrial | None:
        completed = trial.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        for other in completed:
            if other.user_attrs.get("arch_hash") == arch_hash and other.user_attrs.get("status") in (
                "trained",
                "skipped",
            ):
                return other
        return None

    def _reuse(self, trial: optuna.Trial, original: optuna.trial.FrozenTrial, started: float) -> list[float]:
        for key, value in original.system_attrs.items():
            if key.startswith("constraints:"):
                trial.set_constraint(key.split(":", 1)[1], value)
        skip = {"worker", "arch", "notation", "arch_hash", "duration_s"}
        copied = {k: v for k, v in original.user_attrs.items() if k not in skip}
        if copied.get("status") == "trained":
            copied["status"] = "reused"
        copied["reused_from"] = original.number
        arch = Arch.from_dict(original.user_attrs["arch"])
        return self._finish(trial, arch, {}, copied, started)
