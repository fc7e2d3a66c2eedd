"""The typed trial record: what a search stores on each Optuna trial, in one place.

Optuna reads every trial through `FrozenTrial`; dsdnas reads what it stored on one
through `TrialRecord.from_trial`, never by string key. The record's fields are the
trial's user attribute names, so runs written before this module still load: a key
that is missing reads as None (or empty), and one this version does not know is ignored.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from dsdnas.nas.search.storage import set_user_attrs
from dsdnas.nas.stats import wilson_interval


class Status(enum.StrEnum):
    """What became of a candidate; Optuna's own trial state says whether the trial ran to the end."""

    TRAINED = "trained"  # trained for all its epochs; its weights are on disk
    REUSED = "reused"  # an architecture trained before: that trial's result is copied
    SKIPPED = "skipped"  # over a --max-macs/--max-params/--max-latency-ms limit; never trained
    FAILED = "failed"  # the loss became nan or inf, or the device ran out of memory
    TWIN = "twin"  # another worker was training the same architecture: given up, another one sampled
    STOPPED = "stopped"  # stopped at a rung by early stopping: evaluated, counted, never on the front


# Finished candidates: COMPLETE trials whose results stand (the front is drawn from them). A
# stopped candidate (a PRUNED trial) is not finished, but it was evaluated: --budget N counts
# both (see TrialRecord.counted).
FINISHED = frozenset({Status.TRAINED, Status.REUSED})
# The state each result's status needs: a record saved just before a kill claims a result the study never heard
# of, and a retry inherits its failed trial's record.
_CLAIMED_STATE = {Status.TRAINED: "COMPLETE", Status.REUSED: "COMPLETE", Status.STOPPED: "PRUNED"}

OBJECTIVE_DIRECTIONS = {"accuracy": "maximize", "macs": "minimize", "params": "minimize", "latency": "minimize"}
# Objective name -> the record field holding its value.
OBJECTIVE_FIELDS = {"accuracy": "val_accuracy", "macs": "macs", "params": "params", "latency": "latency_ms"}


@dataclass
class TrialRecord:
    """One trial as dsdnas recorded it. `number`, `state` and `values` come from Optuna itself."""

    number: int = -1
    state: str = TrialState.RUNNING.name
    values: tuple[float, ...] | None = None  # the objective values Optuna was told
    status: Status | None = None
    reason: str = ""  # why a trial was skipped or failed
    worker: str = ""  # host:pid of the process that ran it
    folder: str = ""  # the trial's files on that worker's machine (absolute path)
    # The candidate.
    arch: dict[str, Any] | None = None  # Arch.to_dict()
    notation: str = ""
    arch_hash: str = ""
    # Costs, measured before training.
    macs: int | None = None
    params: int | None = None
    receptive_field: int | None = None
    latency_ms: float | None = None  # batch 1: the median pass at full speed (figure.figure_ms)
    latency_p10_ms: float | None = None
    latency_p90_ms: float | None = None
    latency_noisy: bool | None = None  # True: still unstable after retries (None: older runs)
    latency_reason: str = ""
    latency_load: float | None = None
    threads: int | None = None
    latency_source: str = ""  # the runtime it was timed in, or the table that predicted it ("": torch, older runs)
    unsupported_ops: dict[str, int] = field(default_factory=dict)
    profile_s: float | None = None
    # Training.
    val_accuracy: float | None = None  # fraction; 0.0 for a skipped candidate
    val_size: int | None = None  # images it was scored on: the interval's width follows from it
    val_accuracy_history: list[float] = field(default_factory=list)
    # Per rung, by its epochs ("0.3226", "1"; see rungs.Rungs.key): what early stopping measured there.
    rung_accuracies: dict[str, float] = field(default_factory=dict)  # validation accuracy
    rung_val_losses: dict[str, float] = field(default_factory=dict)  # validation loss
    rung_train_losses: dict[str, float] = field(default_factory=dict)  # mean training loss so far (TSE)
    rung_populations: dict[str, int] = field(default_factory=dict)  # candidates it was judged among
    val_loss_history: list[float] = field(default_factory=list)
    train_loss_history: list[float] = field(default_factory=list)
    train_s: float | None = None
    images_per_s: float | None = None
    epochs: float | None = None  # trained: its --epochs; stopped: where, 0.3226 for a third of an epoch
    device: str = ""
    weights_sha256: str | None = None  # of weights.safetensors, checked before the weights are used
    artifacts: dict[str, str] = field(default_factory=dict)  # file name -> id in the shared --artifacts store
    duration_s: float | None = None  # the whole trial, sampling to saved files
    reused_from: int | None = None  # the trial whose result a reused one copies
    adopted_from: int | None = None  # a failed trial whose complete files this one carries on
    mutation_of: int | None = None  # --sampler tpe+mutate: the front member this candidate changes
    mutated: str | None = None  # and the choice it changes (an Optuna parameter name)

    @classmethod
    def from_trial(cls, trial: FrozenTrial) -> TrialRecord:
        """Read what was stored on `trial`; unknown keys are ignored, missing ones stay empty."""
        known = {f.name for f in fields(cls)} - _FROM_OPTUNA
        stored = {key: value for key, value in trial.user_attrs.items() if key in known}
        if "status" in stored:
            stored["status"] = _status(stored["status"])
        values = tuple(trial.values) if trial.values is not None else None
        return cls(number=trial.number, state=trial.state.name, values=values, **stored)

    def attrs(self, *names: str) -> dict[str, Any]:
        """The user attributes to store: all set fields, or only `names`."""
        data = {key: value for key, value in asdict(self).items() if key not in _FROM_OPTUNA}
        if self.status is not None:
            data["status"] = self.status.value
        wanted = names or tuple(data)
        return {key: data[key] for key in wanted if data[key] is not None}

    def save_to(self, trial: optuna.Trial, *names: str) -> None:
        """Store the record (or only `names`) as the trial's user attributes, in one commit where it can."""
        set_user_attrs(trial, self.attrs(*names))

    @property
    def outcome(self) -> str:
        """The word trials.csv and the report show: the status, where the study's state holds it; else the state's
        own word (a trial waiting or running has no outcome yet, whatever record it inherited)."""
        unfinished = self.state in (TrialState.WAITING.name, TrialState.RUNNING.name)
        if self.status is None or unfinished or _CLAIMED_STATE.get(self.status, self.state) != self.state:
            return self.state.lower()
        return self.status.value

    @property
    def finished(self) -> bool:
        """Trained or reused, and complete in the study."""
        return self.state == TrialState.COMPLETE.name and self.status in FINISHED

    @property
    def counted(self) -> bool:
        """Evaluated: trained, reused, or stopped at a rung. What --budget N counts."""
        return self.finished or (self.state == TrialState.PRUNED.name and self.status is Status.STOPPED)

    @property
    def trained(self) -> bool:
        """Trained here, to the end: its weights are on disk."""
        return self.state == TrialState.COMPLETE.name and self.status is Status.TRAINED

    @property
    def val_interval(self) -> tuple[float, float] | None:
        """95% Wilson interval of the validation accuracy; None when the split size is unknown."""
        if self.val_accuracy is None or not self.val_size:
            return None
        return wilson_interval(self.val_accuracy, self.val_size)

    def objective_values(self, objectives: tuple[str, ...] | list[str]) -> list[float]:
        return [float(getattr(self, OBJECTIVE_FIELDS[name])) for name in objectives]


_FROM_OPTUNA = frozenset({"number", "state", "values"})


def _status(value: Any) -> Status | None:
    try:
        return Status(value)
    except ValueError:
        return None


def records(study: optuna.Study, states: tuple[TrialState, ...] | None = None) -> list[TrialRecord]:
    """Every trial of `study` (or those in `states`) as records."""
    return [TrialRecord.from_trial(t) for t in study.get_trials(deepcopy=False, states=states)]


def objective_names(study: optuna.Study) -> list[str]:
    """The study's objectives in order, accuracy first, as its settings recorded them."""
    settings = study.user_attrs.get("settings", {})
    return list(settings.get("objectives", ["accuracy", "macs"]))


def finished_count(study: optuna.Study) -> int:
    """Trained, reused and stopped trials: what --budget N counts."""
    return sum(1 for record in records(study, (TrialState.COMPLETE, TrialState.PRUNED)) if record.counted)
