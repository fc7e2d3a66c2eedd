"""`dsdnas.search(...)`: run (or continue) a search, as `dsdnas search` does."""

from __future__ import annotations

import time
from typing import Any

import torch

from dsdnas.api._jobs import run_jobs
from dsdnas.api._prepare import make_objective, open_run, prepare
from dsdnas.api._report import keep_references, write_run_report
from dsdnas.api._runs import Run
from dsdnas.api.config import SearchConfig, make_config
from dsdnas.nas.search.events import SearchObserver
from dsdnas.nas.search.loop import SearchResult, run_search
from dsdnas.reports import finetuned_accuracies


def search(
    *, config: SearchConfig | None = None, observer: SearchObserver | None = None, **options: Any
) -> SearchResult:
    """Run (or continue) a multi-objective architecture search; see `dsdnas search --help`.

    Pass a `SearchConfig`, or its fields as keywords: `search(budget=6, epochs=1)`.
    """
    started = time.monotonic()  # a time budget counts from the call, data loading included
    config = make_config(SearchConfig, config, options).validate()
    if config.jobs == 1 and config.threads is not None:
        torch.set_num_threads(config.threads)
    prepared = prepare(config)
    study, meta = open_run(config, prepared)
    if config.reference is not None:
        keep_references(prepared.run_dir, config.reference)
    observer = observer or SearchObserver()
    if config.jobs > 1:
        result = run_jobs(config, prepared, study, observer=observer, started=started)
    else:
        result = run_search(
            study,
            make_objective(config, prepared, observer),
            budget=config.budget,
            location=prepared.storage,
            space_size=prepared.space_size,
            note=prepared.note,
            started=started,
        )
    write_run_report(Run(prepared.run_dir, study, meta))
    result.storage = prepared.storage.recorded  # for the commands the CLI suggests next
    result.tuned = finetuned_accuracies(prepared.run_dir.root)  # a search resumed after fine-tunes shows them
    return result
