"""`dsdnas.report(...)`: write a run's self-contained HTML report."""

from __future__ import annotations

from pathlib import Path

from dsdnas.api import load_run
from dsdnas.reports import build_report_data, write_report


def report(run: str | Path, out: str | Path | None = None, storage: str | None = None) -> Path:
    """Build RUN/report.html (or `out`) from the run's study and fine-tunes; returns its path."""
    run_dir, study, meta = load_run(run, storage)
    data = build_report_data(study, meta, run_dir.root)
    return write_report(data, out or run_dir.report_html)
