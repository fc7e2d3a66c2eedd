"""Reports: compute the report's data from a study, then render one self-contained HTML file."""

from dsdnas.reports._baselines import compare, load_baselines
from dsdnas.reports._data import ReportData, build_report_data, finetuned_accuracies
from dsdnas.reports._references import REFERENCES_FILE, read_references
from dsdnas.reports._render import render_report, write_report

__all__ = [
    "REFERENCES_FILE",
    "ReportData",
    "build_report_data",
    "compare",
    "finetuned_accuracies",
    "load_baselines",
    "read_references",
    "render_report",
    "write_report",
]
