"""`--jobs N`: N worker processes on this machine share one study; this process watches them.

The CPU threads are divided among the workers; on CUDA they share the GPU. The budget
stays exact because every worker claims its trial through the study (and the run
directory's claim lock), exactly as separate terminals would. No worker trains while
another measures latency (see `dsdnas.nas.quiet`). The watcher trains nothing: it shows
every running candidate, writes the results as trials finish, and at the end measures
the front again and writes the report.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import sys
import time
from dataclasses import replace

import optuna
import torch

from dsdnas.api._prepare import Prepared, make_objective, open_run, prepare
from dsdnas.api.config import SearchConfig
from dsdnas.errors import DsdnasError
from dsdnas.interrupts import catching_interrupts
from dsdnas.nas.hardware import cpu_count
from dsdnas.nas.search.events import SearchObserver
from dsdnas.nas.search.loop import SearchResult, already_listed, finish_search, report_progress, run_search
from dsdnas.nas.search.records import finished_count
from dsdnas.nas.search.results import write_results

WATCH_S = 0.5  # how often the watcher looks at the study
GRACE_S = 60.0  # how long a worker may take to stop after Ctrl-C


def run_jobs(
    config: SearchConfig, prepared: Prepared, study: optuna.Study, *, observer: SearchObserver, started: float
) -> SearchResult:
    """Start `config.jobs` workers, watch them until they stop, then finish the search here."""
    threads = config.threads or max(1, cpu_count() // config.jobs)
    context = multiprocessing.get_context("spawn")  # fork would copy torch's thread pools mid-flight
    messages = context.Queue()
    worker_config = replace(config, jobs=1)
    workers = [
        context.Process(
            target=work,
            args=(worker_config,),
            kwargs={"threads": threads, "started": started, "messages": messages, "parent": os.getpid()},
            name=f"job{i}",
        )
        for i in range(config.jobs)
    ]
    note = "; ".join(filter(None, [prepared.note, f"{config.jobs} jobs of {threads} CPU thread(s) each"]))
    observer.search_started(finished_count(study), config.budget.trials, config.budget.seconds, note)
    reported = already_listed(study, prepared.run_dir)
    for worker in workers:
        worker.start()
    try:
        reasons = _watch(study, prepared, observer, workers=workers, messages=messages, reported=reported)
    except BaseException:
        _stop(workers)
        write_results(study, prepared.run_dir, final=True)
        raise
    reason = reasons[0] if reasons else ""
    return finish_search(
        study,
        prepared.run_dir,
        observer,
        device=prepared.data.device,
        reason=reason,
        latency_source=prepared.latency_source,
    )


def _watch(study, prepared, observer, *, workers, messages, reported) -> list[str]:
    """Report progress until every worker exited; a worker's error is raised here, in one line."""
    reasons: list[str] = []
    while True:
        alive = any(worker.is_alive() for worker in workers)
        report_progress(study, prepared.run_dir, observer, reported=reported)
        reasons += _drain(messages)
        if not alive:
            break
        time.sleep(WATCH_S)
    failed = [w for w in workers if w.exitcode not in (0, None)]
    if failed and not reasons:
        raise DsdnasError(f"worker {failed[0].name} stopped with exit code {failed[0].exitcode}")
    return reasons


def _drain(messages: multiprocessing.Queue) -> list[str]:
    reasons = []
    while True:
        try:
            kind, text = messages.get_nowait()
        except queue.Empty:
            return reasons
        if kind == "error":
            raise DsdnasError(text)
        reasons.append(text)


def _stop(workers: list[multiprocessing.Process]) -> None:
    """Ctrl-C reached the workers too: give each time to write its results, then make sure it is gone."""
    deadline = time.monotonic() + GRACE_S
    for worker in workers:
        worker.join(timeout=max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            worker.terminate()
            worker.join()


class _WorkerObserver(SearchObserver):
    """Silent; stops the worker when the process that started it is gone."""

    def __init__(self, parent: int) -> None:
        self.parent = parent

    def should_stop(self) -> str | None:
        return None if os.getppid() == self.parent else "the search that started this worker has ended"


def work(config: SearchConfig, *, threads: int, started: float, messages, parent: int) -> None:
    """One worker process: the search loop on `threads` CPU threads, in the parent's study."""
    torch.set_num_threads(threads)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with catching_interrupts():  # one swallowed by a finalizer still stops this worker
            prepared = prepare(config)
            study, _ = open_run(config, prepared, worker=True)
            result = run_search(
                study,
                make_objective(config, prepared, _WorkerObserver(parent)),
                budget=config.budget,
                location=prepared.storage,
                space_size=prepared.space_size,
                started=started,
                finish=False,
            )
        messages.put(("done", result.stop_reason))
    except DsdnasError as error:
        messages.put(("error", str(error)))
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
