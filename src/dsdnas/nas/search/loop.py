"""The search loop: start trials until the budget is met, writing results as they finish.

Workers that share a study (the same command in two terminals, or on many machines with
one --storage) each run this loop; how they share it is the `workers` package's protocol,
which the loop follows through `recover_on_start`, `end_dead_trials` and `naming_first`.
A trial budget counts other workers' running trials too: while they could still fill it,
a worker waits instead of starting another.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
import torch
from optuna.trial import TrialState

from dsdnas.interrupts import raise_if_interrupted
from dsdnas.nas.lut import LatencySource
from dsdnas.nas.runs.rundir import RunDir
from dsdnas.nas.search.budget import Budget
from dsdnas.nas.search.events import RunningTrial, SearchObserver
from dsdnas.nas.search.location import StorageLocation
from dsdnas.nas.search.objective import CandidateFailed, CandidateObjective
from dsdnas.nas.search.records import TrialRecord, finished_count
from dsdnas.nas.search.remeasure import time_at_end
from dsdnas.nas.search.results import trial_row, write_results
from dsdnas.nas.search.snapshot import Snapshot
from dsdnas.nas.search.storage import storage_failure
from dsdnas.nas.search.workers import CandidateTwin, Lock, claim_lock, end_dead_trials, naming_first, recover_on_start

WAIT_S = 1.0  # how often a worker with no trial left to start looks again


@dataclass
class SearchResult:
    """What a search returns: the study, its run directory and why it stopped."""

    study: optuna.Study
    run_dir: Path
    stop_reason: str
    front: list[dict[str, Any]] = field(default_factory=list)
    storage: str | None = None  # the --storage URL, password masked; None: RUN/study.db
    tuned: dict[int, dict[str, Any]] = field(default_factory=dict)  # front trials' fine-tuned test accuracies


@dataclass
class _Progress:
    """What one worker's loop has done so far."""

    started: float  # time.monotonic() when the invocation began; a time budget counts from there
    location: StorageLocation  # named in the one line a storage failure gives
    attempts: int = 0  # trials started, skipped and failed ones included
    waited: bool = False
    waiting_for: tuple[int, int] = (0, 0)  # (running, finished) when this worker last found no room
    reported: set[int] = field(default_factory=set)


def run_search(
    study: optuna.Study,
    objective: CandidateObjective,
    *,
    budget: Budget,
    location: StorageLocation,
    space_size: int | None = None,
    note: str = "",
    started: float | None = None,
    finish: bool = True,
) -> SearchResult:
    """Run trials until the budget is met; write results after every trial into the objective's run directory.

    Without `finish` (a `--jobs` worker), nothing is timed at the end and the front is not written.
    """
    observer, run_dir = objective.observer, objective.run_dir
    claim = claim_lock(location, study.study_name)
    recovered = recover_on_start(study, run_dir, claim)
    note = "; ".join(filter(None, [note, *recovered.notes()]))
    progress = _Progress(time.monotonic() if started is None else started, location)
    progress.reported = already_listed(study, run_dir)
    observer.search_started(finished_count(study), budget.trials, budget.seconds, note)
    report_progress(study, run_dir, observer, reported=progress.reported)  # what other workers finished meanwhile
    max_attempts = 10 * (budget.trials or 100) + 50
    try:
        while (
            reason := _stop_reason(
                study, budget, progress, space_size=space_size, max_attempts=max_attempts, observer=observer
            )
        ) is None:
            raise_if_interrupted()  # one swallowed by a finalizer while the last trial finished
            if not _start_one(study, objective, claim, budget=budget, progress=progress):
                _wait_for_others(observer, progress)
            report_progress(study, run_dir, observer, reported=progress.reported)
    except KeyboardInterrupt:
        write_results(study, run_dir, final=True)  # first: the interrupted trial's FAIL row is in trials.csv
        raise
    if not finish:
        write_results(study, run_dir)
        return SearchResult(study, run_dir.root, reason)
    return finish_search(
        study, run_dir, observer, device=objective.data.device, reason=reason, latency_source=objective.latency_source
    )


def finish_search(
    study: optuna.Study,
    run_dir: RunDir,
    observer: SearchObserver,
    *,
    device: torch.device,
    reason: str,
    latency_source: LatencySource | None = None,
) -> SearchResult:
    """Time the front and the untimed trained candidates in one quiet window, write the final results, tell
    the observer."""
    time_at_end(study, run_dir, device, latency_source=latency_source)
    front = write_results(study, run_dir, final=True)
    observer.search_finished(reason)
    return SearchResult(study, run_dir.root, reason, front)


def _start_one(
    study: optuna.Study, objective: CandidateObjective, claim: Lock, *, budget: Budget, progress: _Progress
) -> bool:
    """Run one trial if the budget leaves room once running trials are counted; False if not."""
    claim.acquire()
    try:
        end_dead_trials(study, objective.run_dir, claim)
        done, running = _evaluated_and_running(study)
        if budget.trials is not None and done + running >= budget.trials:
            progress.waiting_for = (running, done)
            return False
        progress.attempts += 1
        try:
            study.optimize(
                naming_first(objective, claim, objective.run_dir),
                n_trials=1,
                catch=(CandidateFailed, CandidateTwin),
                gc_after_trial=False,
            )
        except Exception as error:
            failure = storage_failure(error, progress.location)  # a full disk under study.db, a lost server
            if failure is None:
                raise
            raise failure from None
        return True
    finally:
        claim.release()


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
    *,
    space_size: int | None,
    max_attempts: int,
    observer: SearchObserver,
) -> str | None:
    if stop := observer.should_stop():
        return stop
    seen = Snapshot(study)  # one read for every count below
    done = finished_count(seen)
    if budget.trials is not None and done >= budget.trials:
        return f"budget met: {done} evaluated trials (budget {budget.trials})"
    if budget.seconds is not None and time.monotonic() - progress.started >= budget.seconds:
        return f"time budget of {budget.seconds:g} s used; {done} evaluated trials"
    if space_size is not None and _distinct_archs(seen) >= space_size:
        return f"every one of the space's {space_size} architectures has been evaluated"
    if progress.attempts >= max_attempts:
        return f"stopped after {progress.attempts} attempts: limits or failures rejected too many candidates"
    return None


def _report_new_trials(study: optuna.Study, run_dir: RunDir, observer: SearchObserver, *, reported: set[int]) -> None:
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


def report_progress(study: optuna.Study, run_dir: RunDir, observer: SearchObserver, *, reported: set[int]) -> None:
    """Tell the observer what finished since the last call (writing the results) and what runs now, all from
    one read of the study: trials.csv and the front agree even while other workers finish trials."""
    seen = Snapshot(study)
    _report_new_trials(seen, run_dir, observer, reported=reported)
    observer.running(running_trials(seen))


def _distinct_archs(study: optuna.Study) -> int:
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    return len({TrialRecord.from_trial(t).arch_hash for t in trials})
