"""`dsdnas.report(...)`: write a run's self-contained HTML report."""

from __future__ import annotations

from pathlib import Path

from dsdnas.api._runs import Run, load_run
from dsdnas.reports import build_report_data, write_report


def report(run: str | Path, /, *, out: str | Path | None = None, storage: str | None = None) -> Path:
    """Build RUN/report.html (or `out`) from the run's study and fine-tunes; returns its path."""
    return write_run_report(load_run(run, storage), out)


def write_run_report(run: Run, out: str | Path | None = None) -> Path:
    """The report of an already opened run."""
    data = build_report_data(run.study, run.meta, run.run_dir.root)
    return write_report(data, out or run.run_dir.report_html)
