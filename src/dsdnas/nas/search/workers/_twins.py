"""What a worker does with a candidate another trial already has: reuse it, or leave it to that trial.

A COMPLETE trial with the same architecture is reused (its result copied). A RUNNING one,
known through its claim (see `_claims`), is left to finish: by default this worker gives
the candidate up at once and samples another (`resample`), which costs one sampling
step, instead of idling until the twin finishes (`wait`, then reuse). DSDNAS_TWINS=wait
selects the other behaviour, for measuring the two.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import optuna
from optuna.trial import TrialState

from dsdnas.nas.search.records import Status, TrialRecord, records
from dsdnas.nas.search.workers._claims import ArchClaims

POLL_S = 1.0  # how often a waiting worker looks at its twin


class CandidateTwin(Exception):
    """Another worker is training this architecture now; the trial ends (FAIL, not counted) and another is sampled."""


def trained_twin(study: optuna.Study, arch_hash: str) -> TrialRecord | None:
    """A trial that evaluated this architecture: trained, skipped (over a limit) or stopped at a rung."""
    for other in records(study, (TrialState.COMPLETE, TrialState.PRUNED)):
        if other.arch_hash == arch_hash and other.status in (Status.TRAINED, Status.SKIPPED, Status.STOPPED):
            return other
    return None


@dataclass
class Twins:
    claims: ArchClaims | None
    strategy: str = os.environ.get("DSDNAS_TWINS", "resample")  # resample | wait

    def resolve(self, trial: optuna.Trial, record: TrialRecord) -> TrialRecord | None:
        """The finished twin to reuse, or None when this trial trains the candidate; CandidateTwin to give it up."""
        while True:
            twin = trained_twin(trial.study, record.arch_hash)
            if twin is not None or self.claims is None:
                return twin
            holder = self._claim(trial, record)
            if holder is None:
                return None
            if self.strategy != "wait":
                raise CandidateTwin(f"trial {holder} is training the same architecture ({record.arch_hash})")
            time.sleep(POLL_S)  # until the holder finishes (reuse) or fails (take the claim over)

    def _claim(self, trial: optuna.Trial, record: TrialRecord) -> int | None:
        """None once this trial holds the claim; else the number of the RUNNING trial that does."""
        holder = self.claims.claim(record.arch_hash, trial.number, record.worker)
        while holder != trial.number:
            state = _state(trial.study, holder)
            if state in (TrialState.RUNNING, TrialState.COMPLETE):
                return holder  # COMPLETE: `resolve` finds it on its next look
            if self.claims.take_over(record.arch_hash, stale_owner=holder, trial=trial.number, worker=record.worker):
                return None  # the holder failed or died: its claim expired with it
            holder = self.claims.owner(record.arch_hash)
        return None


def _state(study: optuna.Study, number: int) -> TrialState | None:
    trials = study.get_trials(deepcopy=False)
    return trials[number].state if 0 <= number < len(trials) else None
