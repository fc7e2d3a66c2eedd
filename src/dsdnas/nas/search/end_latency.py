"""One latency figure per model: the one timed at the end of its search, where there is one.

The end of a search (`remeasure.py`) times its front, and every candidate it trained
without timing it, back to back in one quiet window, and keeps the figures in
RUN/front_latency.json. Everything that shows a trial's latency reads it through
`with_end_latency`, so trials.csv, pareto.json, `dsdnas trials`, the report, model.py and a
fine-tune show one figure for one model; `latency_when` says when it was timed. A fine-tune
that took the end's figure reads it there again (`finetune_latency`): a continued search
times its front again, and the fine-tune then shows the new figure with the run.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from dsdnas.nas.files import read_json
from dsdnas.nas.runs.rundir import FINETUNE_DIR, RunDir
from dsdnas.nas.search.records import TrialRecord

# What a record shows of the end's figure (files from before threads were kept lack that key)
SHOWN = ("latency_ms", "latency_p10_ms", "latency_p90_ms", "latency_noisy", "threads")
AT_END, DURING_SEARCH = "at the end", "during the search"  # when a shown figure was timed
FINETUNE_AT_END = "at the end of the search"  # a fine-tune's latency_when when it took the end's figure


def end_latencies(
    run_dir: RunDir | None, *, timed_on: tuple[str, str, str, int] | None = None
) -> dict[int, dict[str, Any]]:
    """trial -> the latency timed at the end of its search, from RUN/front_latency.json when the run has one;
    with `timed_on` (host, device, runtime, CPU threads), only if it was timed there, so."""
    if run_dir is None or not run_dir.front_latency_json.exists():
        return {}
    data = read_json(run_dir.front_latency_json)
    if (
        timed_on is not None
        and (data.get("host"), data.get("device"), data.get("runtime"), data.get("threads")) != timed_on
    ):
        return {}
    # Each figure names the device it was timed on (model.py says so), which need not be the one that trained;
    # files from before rows named it hold one device for all.
    return {int(number): {"latency_device": data.get("device"), **row} for number, row in data["trials"].items()}


def end_figure(record: TrialRecord, timed: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """The end's figure for `record`: its own, or a reused trial's twin's (the same architecture); {} if none."""
    return timed.get(record.number) or (timed.get(record.reused_from, {}) if record.reused_from is not None else {})


def with_end_latency(record: TrialRecord, timed: dict[int, dict[str, Any]]) -> TrialRecord:
    """`record` showing the latency timed at the end of the search when there is one, else as it was."""
    again = end_figure(record, timed)
    return replace(record, **{key: again[key] for key in SHOWN if key in again}) if again else record


def latency_when(record: TrialRecord, timed: dict[int, dict[str, Any]]) -> str:
    """When the figure `with_end_latency` shows was timed: at the end, during the search, or '' (none, or predicted)."""
    if end_figure(record, timed).get("latency_ms") is not None:
        return AT_END
    timed_here = record.latency_ms is not None and not record.latency_source.startswith("predicted")
    return DURING_SEARCH if timed_here else ""


def finetune_latency(metrics: dict[str, Any], timed: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """The latency fields a fine-tune's metrics.json shows, brought up to date: when the fine-tune took its
    search's end figure, that figure as the end has it now (with the device it was timed on); else {}."""
    again = timed.get(int(metrics["trial"]), {}) if metrics.get("latency_when") == FINETUNE_AT_END else {}
    if again.get("latency_ms") is None:
        return {}
    return {key: again.get(key) for key in ("latency_ms", "latency_p90_ms", "latency_device", "threads")}


def finetune_run(folder: Path) -> RunDir | None:
    """The run a fine-tune folder belongs to (RUN/finetune/<n>), or None for one written elsewhere (--out)."""
    folder = Path(folder).resolve()
    return RunDir(folder.parent.parent) if folder.parent.name == FINETUNE_DIR else None
