"""`dsdnas.report(...)`: write a run's self-contained HTML report."""

from __future__ import annotations

from pathlib import Path

from dsdnas.api._checks import check_out_file, writing_out
from dsdnas.api._runs import Run, load_run
from dsdnas.nas.files import write_text
from dsdnas.nas.runs.rundir import RunDir
from dsdnas.reports import REFERENCES_FILE, build_report_data, read_references, write_report


def report(
    run: str | Path,
    /,
    *,
    out: str | Path | None = None,
    storage: str | None = None,
    reference: str | Path | None = None,
) -> Path:
    """Build RUN/report.html (or `out`) from the run's study and fine-tunes; returns its path.

    `reference` is a CSV of published points (see `docs/report.md`); it is checked, then kept as
    RUN/references.csv, which this and every later report of the run draws.
    """
    check_out_file(out, "report.html")
    if reference is not None:
        read_references(reference)  # a bad file is refused before anything is opened or written
    opened = load_run(run, storage)
    if reference is not None:
        keep_references(opened.run_dir, reference)
    return write_run_report(opened, out)


def keep_references(run_dir: RunDir, reference: str | Path) -> Path:
    """Copy a checked reference CSV to RUN/references.csv, as it was written."""
    return write_text(run_dir.root / REFERENCES_FILE, Path(reference).read_text(encoding="utf-8"))


def write_run_report(run: Run, out: str | Path | None = None) -> Path:
    """The report of an already opened run."""
    data = build_report_data(run.study, run.meta, run.run_dir.root)
    with writing_out(out):
        return write_report(data, out or run.run_dir.report_html)
