"""The front as the terminal shows it, and what a finished search says next.

Every front table is sorted by cost (the study's first cost objective), marks the best and
the knee (`nas/search/picks.py`), and shows a member's fine-tuned test accuracy when it
has one.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from dsdnas.cli._common import MASKED_NOTE, accuracy_cell, human, latency_cell, masked, percent

NARROW = 120  # columns below which notations leave the table for lines of their own under it


def front_table(
    front: list[dict[str, Any]], title: str = "Pareto front", *, tuned: dict | None = None, width: int = 160
) -> RenderableType:
    """The front with 95% intervals, and the latencies timed together at the end of the search.

    On a console narrower than NARROW columns the notations, and the fine-tuned test accuracies,
    follow the table, one line per trial, so neither the figures nor the notations are cut.
    """
    from dsdnas.api import AT_END  # shown with a study's front, when the engine is in memory anyway

    at_end = any(row.get("latency_when") == AT_END for row in front)
    tuned = {row["trial"]: tuned[row["trial"]] for row in front if row["trial"] in (tuned or {})}  # members only
    narrow = width < NARROW
    test_column = bool(tuned) and not narrow
    table = Table(title=title, title_justify="left")
    columns = ["trial", "pick", "val accuracy [95% CI]"]
    columns += ["test accuracy [95% CI]"] if test_column else []
    columns += ["MACs", "params", "latency*" if at_end else "latency"]
    columns += [] if narrow else ["notation"]
    for column in columns:
        if column == "notation":
            table.add_column(column, justify="left", overflow="fold")
        else:
            table.add_column(column, justify="left" if column == "pick" else "right", no_wrap=True)
    for row in front:
        test = [_test_cell(tuned.get(row["trial"]))] if test_column else []
        notation = [] if narrow else [row["notation"]]
        cells = [human(row["macs"]), human(row["params"]), latency_cell(row)]
        table.add_row(str(row["trial"]), row.get("pick") or "", accuracy_cell(row), *test, *cells, *notation)
    notes = [Text("* timed back to back when the search ended, while nothing trained")] if at_end else []
    if tuned:
        notes.append(Text("test accuracy: fine-tuned on all the training data, scored once on the test split"))
    if narrow:
        notes += [
            Text(f"trial {row['trial']}: {row['notation']}{_test_note(tuned.get(row['trial']))}") for row in front
        ]
    return Group(table, *notes)


def _test_note(tuned: dict | None) -> str:
    return f" | fine-tuned test accuracy {_test_cell(tuned)}" if tuned else ""


def _test_cell(tuned: dict | None) -> str:
    if not tuned:
        return "-"
    low, high = tuned.get("low"), tuned.get("high")
    interval = f" [{100 * low:.1f}, {100 * high:.1f}]" if low is not None and high is not None else ""
    return f"{percent(tuned['accuracy'])}{interval}"


def next_steps(run_dir: Path, front: list[dict[str, Any]], storage: str | None = None) -> list[str]:
    """After a search: where the report is, the best and the knee, and the commands that ship one."""
    from dsdnas.api import KNEE_RULE  # loaded after a search, when the engine is in memory anyway

    where = shlex.quote(str(run_dir)) + (f" --storage {shlex.quote(storage)}" if storage else "")
    lines = [f"report: {run_dir / 'report.html'} (dsdnas report {where} --open)"]
    picked = {name: row for row in front for name in (row.get("pick") or "").split(", ") if name}
    for name in ("best", "knee"):
        if name in picked:
            row = picked[name]
            lines.append(
                f"{name}: trial {row['trial']}, validation {accuracy_cell(row)}, {human(row['macs'])} MACs, "
                f"{latency_cell(row)}"
            )
    if not picked:
        return lines
    note = [MASKED_NOTE] if masked(storage) else []
    lines += [
        f"  ({KNEE_RULE})",
        "next: fine-tune the knee on all the training data and score it once on the test split, then ship it:",
        f"  dsdnas finetune {where} --pick knee",
        f"  dsdnas export {where} --pick knee --out shipped",
        *note,
    ]
    return lines
