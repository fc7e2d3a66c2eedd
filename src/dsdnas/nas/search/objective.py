"""One trial of a search: sample, deduplicate, profile, check limits, train, save.

Costs are measured before training, so a candidate over --max-macs, --max-params or
--max-latency-ms is never trained: it is recorded with the reason and the sampler learns
of it through Optuna's constraints. Latency is timed then only when it is an objective or
a limit, or its runtime is not torch (which may refuse a candidate: found before it
trains); otherwise no candidate is timed here, and the end of the search times the ones
trained to the end, back to back while nothing trains (`remeasure.py`): a stopped one
needs no latency, and timing a trained one took about 0.3 s of its fixed cost. A
candidate whose architecture was already trained is not trained again: the stored result
is reused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import optuna
import torch

from dsdnas.errors import DsdnasError
from dsdnas.nas.datasets.device_data import DeviceData
from dsdnas.nas.files import save_weights, write_json, write_text
from dsdnas.nas.hardware import worker_id
from dsdnas.nas.lut import LatencySource
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.costs import profile_costs
from dsdnas.nas.model.runtimes import UnsupportedModel
from dsdnas.nas.runs.rundir import ARCH_FILE, METRICS_FILE, WEIGHTS_FILE, RunDir
from dsdnas.nas.runs.store import upload_trial_files
from dsdnas.nas.search import rungs
from dsdnas.nas.search.events import SearchObserver
from dsdnas.nas.search.records import Status, TrialRecord
from dsdnas.nas.search.stages import train_in_stages
from dsdnas.nas.search.storage import choices_in_one_commit
from dsdnas.nas.search.workers import CandidateTwin, Twins
from dsdnas.nas.training.trainer import TrainConfig, Trainer, TrainResult

LIMIT_FIELDS = {"max_macs": "macs", "max_params": "params", "max_latency_ms": "latency_ms"}


class CandidateFailed(Exception):
    """Training diverged (nan or inf loss); the trial is marked FAIL with the reason."""


@dataclass(frozen=True)
class Limits:
    """--max-macs, --max-params, --max-latency-ms: candidates above one are never trained."""

    max_macs: float | None = None
    max_params: float | None = None
    max_latency_ms: float | None = None

    def __post_init__(self) -> None:
        for name in LIMIT_FIELDS:
            limit = getattr(self, name)
            if limit is not None and not limit > 0:  # `not >` also rejects nan
                raise DsdnasError(f"--{name.replace('_', '-')} {limit:g} must be a positive number")

    def violations(self, record: TrialRecord) -> dict[str, float]:
        """Constraint values per limit: the amount over it (> 0 means infeasible)."""
        found = {}
        for name, cost in LIMIT_FIELDS.items():
            limit = getattr(self, name)
            if limit is not None:
                found[cost] = getattr(record, cost) - limit
        return found


@dataclass(kw_only=True)
class CandidateObjective:
    """The callable handed to `study.optimize`; returns one value per objective."""

    space: object  # a SearchSpace: anything with sample(trial, input_shape, num_classes)
    data: DeviceData
    train_config: TrainConfig
    objectives: tuple[str, ...]
    limits: Limits
    run_dir: RunDir
    observer: SearchObserver = field(default_factory=SearchObserver)
    twins: Twins = field(default_factory=lambda: Twins(None))  # claims on a shared study (see workers)
    store: object | None = None  # the --artifacts store every worker can read, if any
    rung_schedule: rungs.Rungs | None = None  # where and on what early stopping judges a candidate; None: it is off
    latency_source: LatencySource = field(default_factory=LatencySource)  # --latency-runtime, --latency-lut
    # False: latency is no objective or limit and the runtime is torch's, so none is timed here (see remeasure.py).
    time_every_candidate: bool = True

    def __call__(self, trial: optuna.Trial) -> list[float]:
        try:
            return self._evaluate(trial)
        except KeyboardInterrupt:  # Optuna fails the trial; its row says why
            if not trial.user_attrs.get("reason"):
                trial.set_user_attr("reason", "interrupted (Ctrl-C) before training")
            raise

    def _evaluate(self, trial: optuna.Trial) -> list[float]:
        started = time.perf_counter()
        with choices_in_one_commit(trial):  # one commit for all of them, not one each
            arch = self.space.sample(trial, self.data.input_shape, self.data.num_classes)
        folder = self.run_dir.trial_dir(trial.number)
        record = TrialRecord(
            number=trial.number,
            worker=worker_id(),
            folder=str(folder.resolve()),
            arch=arch.to_dict(),
            notation=arch.notation,
            arch_hash=arch.hash,
            mutation_of=trial.user_attrs.get("mutation_of"),  # set by the sampler, if it mutated a front member
            mutated=trial.user_attrs.get("mutated"),
        )
        record.save_to(trial)  # first: a killed trial still says what it was, who ran it and where
        write_text(folder / ARCH_FILE, arch.to_json())
        try:
            twin = self.twins.resolve(trial, record)
        except CandidateTwin as given_up:
            replace(record, status=Status.TWIN, reason=str(given_up)).save_to(trial, "status", "reason")
            raise
        if twin is not None:
            return self._reuse(trial, record, twin, started=started)
        model = build_model(arch, seed=self.train_config.seed + trial.number)
        source = self.latency_source
        try:
            costs = profile_costs(
                model,
                arch,
                self.data.device,
                runtime=source.runtime,
                threads=source.threads,
                predicted=source.predicted(arch),
                source=source.label,
                timed=self.time_every_candidate,
            )
        except UnsupportedModel as error:  # it could never ship in that runtime: failed, with the reason
            self._finish(trial, replace(record, status=Status.FAILED, reason=str(error)), started)
            raise CandidateFailed(str(error)) from None
        record = replace(record, **costs.to_dict())
        over = self._constrain(trial, record)
        if over:
            record = replace(record, status=Status.SKIPPED, reason="; ".join(over), val_accuracy=0.0)
            return self._finish(trial, record, started)
        return self._train(trial, record, model, started=started)

    def _constrain(self, trial: optuna.Trial, record: TrialRecord) -> list[str]:
        """Tell Optuna the candidate's constraint values; the reasons it is over a limit, if any."""
        violations = self.limits.violations(record)
        for key, value in violations.items():
            trial.set_constraint(key, value)
        return [
            f"{key} {getattr(record, key):.4g} is over --max-{key.replace('_', '-')} by {amount:.4g}"
            for key, amount in violations.items()
            if amount > 0
        ]

    def _train(
        self, trial: optuna.Trial, record: TrialRecord, model: torch.nn.Module, *, started: float
    ) -> list[float]:
        self.observer.trial_started(trial.number, record.notation, self.train_config.epochs)
        config = replace(self.train_config, seed=self.train_config.seed + trial.number)
        trainer = Trainer(model, self.data, config)
        at_rungs = TrialRecord()  # what each rung measured, by the rung's key
        schedule = self.rung_schedule

        def goes_on(step: int, signals: dict[str, float]) -> bool:
            key = schedule.key(step)
            for name, value in signals.items():
                getattr(at_rungs, rungs.SIGNALS[name].field)[key] = value
            # Before the verdict, so that others reaching the rung now judge by them. One commit: the
            # populations of the rungs before ride along; this one's is stored with the next or the record.
            at_rungs.save_to(trial, *(signal.field for signal in rungs.SIGNALS.values()), "rung_populations")
            verdict, at_rungs.rung_populations[key] = rungs.judge(
                trial.study,
                record,
                rung=key,
                value=signals[schedule.signal],
                objectives=self.objectives,
                signal=schedule.signal,
                eta=schedule.eta,
            )
            return verdict

        stopped_at = None
        try:
            result, stopped_at = train_in_stages(
                trainer,
                schedule.steps if schedule is not None else (),
                on_epoch=lambda stats: self.observer.epoch_finished(trial.number, stats),
                goes_on=goes_on,
            )
        except KeyboardInterrupt:
            trial.set_user_attr("reason", "interrupted (Ctrl-C) while training")
            raise
        except torch.OutOfMemoryError:  # a candidate too big for the device fails alone
            result = TrainResult(failure=f"out of memory on {self.data.device} at batch {config.batch_size}")
            if self.data.device.type == "cuda":
                torch.cuda.empty_cache()
        record = replace(
            record,
            status=Status.TRAINED,
            # A stopped candidate's is the accuracy it had at its rung, inside an epoch or at its end.
            val_accuracy=result.val_accuracy
            if stopped_at is None
            else at_rungs.rung_accuracies[schedule.key(stopped_at)],
            val_size=len(self.data.val),
            val_accuracy_history=[s.val_accuracy for s in result.history],
            val_loss_history=[s.val_loss for s in result.history],
            train_loss_history=[s.train_loss for s in result.history],
            train_s=result.seconds,
            images_per_s=result.images_per_second,
            epochs=schedule.epochs(stopped_at) if stopped_at is not None else len(result.history),
            device=str(self.data.device),
            rung_accuracies=at_rungs.rung_accuracies,
            rung_val_losses=at_rungs.rung_val_losses,
            rung_train_losses=at_rungs.rung_train_losses,
            rung_populations=at_rungs.rung_populations,
        )
        if stopped_at is not None:
            reason = self._stop_reason(at_rungs, schedule, stopped_at)
            self._finish(trial, replace(record, status=Status.STOPPED, reason=reason), started)
            raise optuna.TrialPruned(reason)
        if result.failure is not None:
            self._finish(trial, replace(record, status=Status.FAILED, reason=result.failure), started)
            raise CandidateFailed(result.failure)
        weights = self.run_dir.trial_dir(trial.number) / WEIGHTS_FILE
        try:
            sha256 = save_weights(weights, trainer.final_model.state_dict(), {"arch_hash": record.arch_hash})
            return self._finish(trial, replace(record, weights_sha256=sha256), started)
        except Exception:  # a full disk, a lost storage: no half-recorded trial keeps weights it cannot vouch for
            if (self.run_dir.trial_dir(trial.number) / METRICS_FILE).exists():
                raise  # the files are complete: the next run completes the trial from them
            weights.unlink(missing_ok=True)
            raise

    def _stop_reason(self, at_rungs: TrialRecord, schedule: rungs.Rungs, step: int) -> str:
        """Stopped after 0.3226 of 3 epochs (20 steps) at 81.25% (validation loss 0.61): not in the top 1/2 ..."""
        key, signal = schedule.key(step), rungs.SIGNALS[schedule.signal]
        judged = (
            "" if schedule.signal == "val_accuracy" else f" ({signal.words} {getattr(at_rungs, signal.field)[key]:.4g})"
        )
        return (
            f"stopped after {key} of {self.train_config.epochs} epochs ({step} steps) at "
            f"{at_rungs.rung_accuracies[key]:.2%}{judged}: not in the top 1/{schedule.eta} of its rung"
        )

    def _finish(self, trial: optuna.Trial, record: TrialRecord, started: float) -> list[float]:
        """metrics.json first, then the study: a trial killed in between is recovered from its files."""
        record = replace(record, duration_s=time.perf_counter() - started)
        metrics = {"trial": trial.number, **record.attrs()}
        del metrics["arch"]  # arch.json holds it
        metrics.update(mean=list(self.data.mean), std=list(self.data.std))
        folder = self.run_dir.trial_dir(trial.number)
        write_json(folder / METRICS_FILE, metrics)
        if self.store is not None and record.status is Status.TRAINED:
            record = replace(record, artifacts=upload_trial_files(self.store, trial, folder))
        record.save_to(trial)
        # A failed trial has no values (one the runtime cannot run has no costs either).
        return [] if record.status is Status.FAILED else record.objective_values(self.objectives)

    def _reuse(self, trial: optuna.Trial, record: TrialRecord, twin: TrialRecord, *, started: float) -> list[float]:
        """Copy the twin's costs and outcome; the same limits give the same constraint values.

        A twin stopped at a rung gives a stopped trial (PRUNED), which counts as evaluated.
        """
        self._constrain(trial, twin)
        own = {"number", "state", "worker", "folder", "arch", "notation", "arch_hash", "duration_s", "status"}
        own |= {"reused_from", "weights_sha256", "artifacts"}  # a reused trial has no files of its own
        own |= {"mutation_of", "mutated"}  # how this trial was proposed, not its twin
        copied = {key: value for key, value in vars(twin).items() if key not in own}
        status = Status.REUSED if twin.status is Status.TRAINED else twin.status
        record = replace(record, **copied, status=status, reused_from=twin.number)
        values = self._finish(trial, record, started)
        if status is Status.STOPPED:  # the same verdict as its twin: evaluated and stopped, never on the front
            raise optuna.TrialPruned(record.reason)
        return values
