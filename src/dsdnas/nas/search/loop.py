"""The search loop: start trials until the budget is met, writing results as they finish.

Workers that share a study (the same command in two terminals, or on many machines with
one --storage) each run this loop. A trial budget counts other workers' running trials
too: while they could still fill it, a worker waits instead of starting another.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
import torch
from optuna.trial import TrialState

from dsdnas.nas.hardware import worker_id
from dsdnas.nas.runs.rundir import RunDir
from dsdnas.nas.search.budget import Budget
from dsdnas.nas.search.claim import ClaimLock, claim_lock
from dsdnas.nas.search.events import RunningTrial, SearchObserver
from dsdnas.nas.search.objective import CandidateFailed, CandidateObjective
from dsdnas.nas.search.records import TrialRecord, finished_count
from dsdnas.nas.search.recovery import (
    adopt_failed_trials,
    fail_orphaned_trials,
    fail_stale_trials,
    recover_dead_trials,
)
from dsdnas.nas.search.remeasure import remeasure_front
from dsdnas.nas.search.results import trial_row, write_results
from dsdnas.nas.search.storage import storage_failure
from dsdnas.nas.search.twins import CandidateTwin

WAIT_S = 1.0  # how often a worker with no trial left to start looks again


@dataclass
class SearchResult:
    """What a search returns: the study, its run directory and why it stopped."""

    study: optuna.Study
    run_dir: Path
    stop_reason: str
    front: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Progress:
    """What one worker's loop has done so far."""

    started: float  # time.monotonic() when the invocation began; a time budget counts from there
    storage_url: str = ""
    attempts: int = 0  # trials started, skipped and failed ones included
    waited: bool = False
    waiting_for: tuple[int, int] = (0, 0)  # (running, finished) when this worker last found no room
    reported: set[int] = field(default_factory=set)


def run_search(
    study: optuna.Study,
    objective: CandidateObjective,
    run_dir: RunDir,
    budget: Budget,
    *,
    space_size: int | None = None,
    note: str = "",
    started: float | None = None,
    storage_url: str = "",
    finish: bool = True,
) -> SearchResult:
    """Run trials until the budget is met; write results after every trial.

    `storage_url` names the storage in the one-line message a storage failure gives.
    Without `finish` (a `--jobs` worker), the front is neither measured again nor written.
    """
    observer = objective.observer
    storage_url = storage_url or run_dir.storage_url
    claim = claim_lock(storage_url, study.study_name, run_dir.claim_lock)
    with claim:  # a worker that pops a retried trial names itself under it: never taken for the dead one
        completed, retried, orphans = _end_dead_trials(study, run_dir, claim)
        completed += adopt_failed_trials(study, run_dir)
    recovered = [
        orphans and f"failed trial(s) {orphans} whose worker was killed creating them",
        completed and f"completed trial(s) {completed} from their files after a killed run",
        retried and f"retrying trial(s) {retried} left RUNNING by a killed run",
    ]
    note = "; ".join(filter(None, [note, *recovered]))
    progress = _Progress(time.monotonic() if started is None else started, storage_url=storage_url)
    progress.reported = already_listed(study, run_dir)
    observer.search_started(finished_count(study), budget.trials, budget.seconds, note)
    report_progress(study, run_dir, observer, progress.reported)  # what other workers finished meanwhile
    max_attempts = 10 * (budget.trials or 100) + 50
    try:
        while (reason := _stop_reason(study, budget, progress, space_size, max_attempts, observer)) is None:
            if not _start_one(study, objective, budget, claim, progress):
                _wait_for_others(observer, progress)
            report_progress(study, run_dir, observer, progress.reported)
    except KeyboardInterrupt:
        write_results(study, run_dir, final=True)  # first: the interrupted trial's FAIL row is in trials.csv
        raise
    if not finish:
        write_results(study, run_dir)
        return SearchResult(study, run_dir.root, reason)
    return finish_search(study, run_dir, objective.data.device, observer, reason)


def finish_search(
    study: optuna.Study, run_dir: RunDir, device: torch.device, observer: SearchObserver, reason: str
) -> SearchResult:
    """Measure the front's latencies again in one quiet window, write the final results, tell the observer."""
    remeasured = {int(k): v for k, v in remeasure_front(study, run_dir, device)["trials"].items()}
    front = write_results(study, run_dir, final=True, remeasured=remeasured)
    observer.search_finished(reason)
    return SearchResult(study, run_dir.root, reason, front)


def _start_one(
    study: optuna.Study, objective: CandidateObjective, budget: Budget, claim: ClaimLock, progress: _Progress
) -> bool:
    """Run one trial if the budget leaves room once running trials are counted; False if not."""
    claim.acquire()
    try:
        _end_dead_trials(study, objective.run_dir, claim)
        done, running = _evaluated_and_running(study)
        if budget.trials is not None and done + running >= budget.trials:
            progress.waiting_for = (running, done)
            return False
        progress.attempts += 1
        try:
            study.optimize(
                _releasing(objective, claim), n_trials=1, catch=(CandidateFailed, CandidateTwin), gc_after_trial=False
            )
        except Exception as error:
            failure = storage_failure(error, progress.storage_url)  # a full disk under study.db, a lost server
            if failure is None:
                raise
            raise failure from None
        return True
    finally:
        claim.release()


def _end_dead_trials(study: optuna.Study, run_dir: RunDir, claim: ClaimLock) -> tuple[list[int], list[int], list[int]]:
    """Trials whose workers died stop holding places in the budget; call it holding the claim lock.

    Returns the trials completed from their files, failed and retried, and failed as orphans.
    """
    completed, retried = recover_dead_trials(study, run_dir)  # processes on this machine
    orphans = fail_orphaned_trials(study, lock_shared=claim.shared)  # died before naming themselves
    fail_stale_trials(study)  # elsewhere: heartbeat grace; with the reason, before Optuna's own check
    return completed, retried, orphans


def _evaluated_and_running(study: optuna.Study) -> tuple[int, int]:
    """Evaluated and RUNNING trials, from one read of the study: a trial that finished between
    two reads would be in neither count, and the budget passed by one."""
    trials = study.get_trials(deepcopy=False)
    done = sum(TrialRecord.from_trial(trial).counted for trial in trials)
    return done, sum(trial.state == TrialState.RUNNING for trial in trials)


def _wait_for_others(observer: SearchObserver, progress: _Progress) -> None:
    """Other workers' running trials may still fill the budget, or fail and leave room."""
    if not progress.waited:
        observer.waiting(*progress.waiting_for)
        progress.waited = True
    time.sleep(WAIT_S)


def _stop_reason(
    study: optuna.Study,
    budget: Budget,
    progress: _Progress,
    space_size: int | None,
    max_attempts: int,
    observer: SearchObserver,
) -> str | None:
    if stop := observer.should_stop():
        return stop
    done = finished_count(study)
    if budget.trials is not None and done >= budget.trials:
        return f"budget met: {done} evaluated trials (budget {budget.trials})"
    if budget.seconds is not None and time.monotonic() - progress.started >= budget.seconds:
        return f"time budget of {budget.seconds:g} s used; {done} evaluated trials"
    if space_size is not None and _distinct_archs(study) >= space_size:
        return f"every one of the space's {space_size} architectures has been evaluated"
    if progress.attempts >= max_attempts:
        return f"stopped after {progress.attempts} attempts: limits or failures rejected too many candidates"
    return None


def _report_new_trials(study: optuna.Study, run_dir: RunDir, observer: SearchObserver, reported: set[int]) -> None:
    """Write results and tell the observer of each trial finished since the last call, by any worker."""
    new = [t for t in study.get_trials(deepcopy=False) if t.state.is_finished() and t.number not in reported]
    if not new:
        return
    front = write_results(study, run_dir)
    on_front = {row["trial"] for row in front}
    finished = finished_count(study)
    for trial in new:
        reported.add(trial.number)
        observer.trial_finished(trial.number, trial_row(TrialRecord.from_trial(trial), on_front), front, finished)


def already_listed(study: optuna.Study, run_dir: RunDir) -> set[int]:
    """Finished trials this run directory's trials.csv already lists: the rest, finished by other workers
    since this one last ran, are listed as the search starts (even when the budget is already met)."""
    finished = {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
    if not run_dir.trials_csv.exists():
        return finished  # a new worker: what came before it is not news
    try:
        listed = pd.read_csv(run_dir.trials_csv)
        return finished & set(listed.loc[listed["state"].isin(["COMPLETE", "FAIL", "PRUNED"]), "trial"].astype(int))
    except (ValueError, KeyError, OSError):
        return finished


def running_trials(study: optuna.Study) -> list[RunningTrial]:
    """The study's RUNNING trials, any worker's, oldest first."""
    now = datetime.datetime.now()
    found = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        record = TrialRecord.from_trial(trial)
        started = trial.datetime_start or now
        found.append(RunningTrial(trial.number, record.notation, record.worker, (now - started).total_seconds()))
    return found


def report_progress(study: optuna.Study, run_dir: RunDir, observer: SearchObserver, reported: set[int]) -> None:
    """Tell the observer what finished since the last call (writing the results) and what runs now."""
    _report_new_trials(study, run_dir, observer, reported)
    observer.running(running_trials(study))


def _releasing(objective: CandidateObjective, claim: ClaimLock) -> Callable[[optuna.Trial], list[float]]:
    """The objective, releasing the claim once Optuna has created (and numbered) the trial."""

    def run(trial: optuna.Trial) -> list[float]:
        # Named before the lock goes: a RUNNING trial nobody named is then an orphan (see claim.py),
        # and a retried trial no longer carries its dead worker's name and folder.
        folder = objective.run_dir.trial_dir(trial.number).resolve()
        TrialRecord(worker=worker_id(), folder=str(folder)).save_to(trial, "worker", "folder", "reason")
        claim.release()
        return objective(trial)

    return run


def _distinct_archs(study: optuna.Study) -> int:
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    return len({TrialRecord.from_trial(t).arch_hash for t in trials})
