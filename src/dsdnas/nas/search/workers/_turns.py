"""The search loop's side of the protocol: end what dead workers left, then start a trial and name yourself.

The loop calls `recover_on_start` once, then, for every trial it starts, takes the claim
lock, calls `end_dead_trials`, counts the budget and runs Optuna's trial through
`naming_first`, which names this worker on the new trial before it lets the lock go.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import optuna

from dsdnas.nas.hardware import worker_id
from dsdnas.nas.runs.rundir import RunDir
from dsdnas.nas.search.records import TrialRecord
from dsdnas.nas.search.workers._locks import Lock
from dsdnas.nas.search.workers._recovery import (
    adopt_failed_trials,
    fail_orphaned_trials,
    fail_stale_trials,
    recover_dead_trials,
)


@dataclass(frozen=True)
class Recovered:
    """The trials one look at the study ended, by what became of them."""

    completed: list[int] = field(default_factory=list)  # from their whole files (or carried on by a new trial)
    stopped: list[int] = field(default_factory=list)  # stopped at a rung, as their files say (PRUNED, counted)
    retried: list[int] = field(default_factory=list)  # failed, their candidates enqueued again
    orphans: list[int] = field(default_factory=list)  # failed: their worker died before naming itself

    def notes(self) -> list[str]:
        """One phrase per kind of recovery that happened, for the line a search starts with."""
        found = [
            self.orphans and f"failed trial(s) {self.orphans} whose worker was killed creating them",
            self.completed and f"completed trial(s) {self.completed} from their files after a killed run",
            self.stopped
            and f"recorded trial(s) {self.stopped} as stopped at a rung from their files after a killed run",
            self.retried and f"retrying trial(s) {self.retried} left RUNNING by a killed run",
        ]
        return [note for note in found if note]


def end_dead_trials(study: optuna.Study, run_dir: RunDir, claim: Lock) -> Recovered:
    """Trials whose workers died stop holding places in the budget; call it holding the claim lock."""
    completed, stopped, retried = recover_dead_trials(study, run_dir)  # processes on this machine
    orphans = fail_orphaned_trials(study, lock_shared=claim.shared)  # died before naming themselves
    fail_stale_trials(study)  # elsewhere: heartbeat grace; with the reason, before Optuna's own check
    return Recovered(completed, stopped, retried, orphans)


def recover_on_start(study: optuna.Study, run_dir: RunDir, claim: Lock) -> Recovered:
    """What a search does first, under the claim lock: end dead trials, and carry on failed trials
    whose files are whole. A worker that pops a retried trial later names itself under the same
    lock, so it is never taken for the dead one."""
    with claim:
        found = end_dead_trials(study, run_dir, claim)
        return replace(found, completed=found.completed + adopt_failed_trials(study, run_dir))


def naming_first(
    objective: Callable[[optuna.Trial], list[float]], claim: Lock, run_dir: RunDir
) -> Callable[[optuna.Trial], list[float]]:
    """`objective`, first naming this worker and the trial's folder on the new trial, then releasing `claim`.

    Named before the lock goes: a RUNNING trial nobody named is then an orphan (see
    `fail_orphaned_trials`), and a retried trial no longer carries its dead worker's name,
    folder and reason.
    """

    def run(trial: optuna.Trial) -> list[float]:
        folder = run_dir.trial_dir(trial.number).resolve()
        TrialRecord(worker=worker_id(), folder=str(folder)).save_to(trial, "worker", "folder", "reason")
        claim.release()
        return objective(trial)

    return run
