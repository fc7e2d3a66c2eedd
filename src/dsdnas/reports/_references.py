"""Reference points from the literature, and which of them the shipped front dominates.

A reference CSV has the columns name, macs, params, accuracy, source (one of macs and
params may be left out): each row gives `macs` or `params` (or both; leave the other
empty), its test accuracy in percent (92.5) and where the figure was published.
`search --reference` and `report --reference` keep a checked copy as RUN/references.csv,
which every later report draws.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from dsdnas.errors import DataError

REFERENCES_FILE = "references.csv"  # RUN/references.csv: the copy every report of the run reads
COLUMNS = ("name", "macs", "params", "accuracy", "source")
COSTS = ("macs", "params")
COST_NAMES = {"macs": "MACs", "params": "params"}


def read_references(path: str | Path) -> pd.DataFrame:
    """The checked rows of a reference CSV; a DataError names the file, the row and the field at fault."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise DataError(f"--reference {path}: no such file") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        first = (str(error).splitlines() or [type(error).__name__])[0][:120]
        raise DataError(f"--reference {path}: not a readable CSV ({first})") from None
    for column in COSTS:  # a file may give only one of the costs
        if column not in frame.columns and any(other in frame.columns for other in COSTS):
            frame[column] = ""
    missing = [column for column in COLUMNS if column not in frame.columns]
    if missing:
        raise DataError(
            f"--reference {path}: missing column(s) {', '.join(missing)}; the header is {', '.join(COLUMNS)}"
        )
    if frame.empty:
        raise DataError(f"--reference {path}: no rows under the header")
    rows = [_row(path, number, record) for number, record in enumerate(frame.to_dict("records"), start=2)]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _row(path: Path, line: int, record: dict[str, str]) -> dict[str, Any]:
    """One CSV line (`line` counts the header as 1), checked."""
    name = record["name"].strip()
    where = f"--reference {path}, line {line}"
    if not name:
        raise DataError(f"{where}: the name is empty")
    if not record["source"].strip():
        raise DataError(f"{where} ({name}): the source is empty; every point names where it was published")
    row: dict[str, Any] = {"name": name, "source": record["source"].strip()}
    for column in COSTS:
        text = record[column].strip().replace("_", "")
        value = _number(text) if text else None
        if text and (value is None or value <= 0):
            raise DataError(f"{where} ({name}): {column} {record[column]!r} must be a positive number")
        row[column] = value
    if row["macs"] is None and row["params"] is None:
        raise DataError(f"{where} ({name}): give macs or params (or both)")
    accuracy = _number(record["accuracy"].strip().rstrip("%"))
    if accuracy is None or not 1 < accuracy <= 100:
        raise DataError(
            f"{where} ({name}): accuracy {record['accuracy']!r} must be a test accuracy in percent, such as 92.5"
        )
    row["accuracy"] = accuracy / 100
    return row


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def verdicts(references: pd.DataFrame, members: list[Any]) -> list[dict[str, Any]]:
    """For each reference point: the fine-tuned member that dominates it (at most its MACs and params,
    whichever it gives, and at least its accuracy), the most accurate one within its cost otherwise."""
    results = []
    for reference in references.to_dict("records"):
        costs = [column for column in COSTS if reference[column] is not None and reference[column] == reference[column]]
        within = [m for m in members if all(getattr(m, column) <= reference[column] for column in costs)]
        winner = max(within, key=lambda m: (m.test_accuracy, -m.macs), default=None)
        dominated = winner is not None and winner.test_accuracy >= reference["accuracy"]
        results.append(
            {
                **reference,
                "dominated": dominated,
                "member": winner,
                "sentence": _sentence(reference, costs, winner, dominated=dominated, any_member=bool(members)),
            }
        )
    return results


def _sentence(reference: dict[str, Any], costs: list[str], winner: Any, *, dominated: bool, any_member: bool) -> str:
    at = " and ".join(f"{_count(reference[column])} {COST_NAMES[column]}" for column in costs)
    head = f"{reference['name']} ({100 * reference['accuracy']:.2f}% at {at}; {reference['source']})"
    if winner is None:
        return f"{head}: no fine-tuned member is that cheap" if any_member else f"{head}: nothing fine-tuned yet"
    mine = " and ".join(f"{_count(getattr(winner, column))} {COST_NAMES[column]}" for column in costs)
    word = "dominated" if dominated else "not dominated"
    return f"{head}: {word}; trial {winner.number} scores {100 * winner.test_accuracy:.2f}% at {mine}"


def _count(value: float) -> str:
    return f"{value:,.0f}"
