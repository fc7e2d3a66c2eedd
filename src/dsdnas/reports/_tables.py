"""The report's HTML tables: cells that sort by number and show percentages, intervals and units.

Every user string is escaped through html.escape. Accuracies show as percentages with their
95% interval; headers are words, not column names.
"""

from __future__ import annotations

import html

import pandas as pd

from dsdnas.reports._data import ReportData


def _cell(value, text_class: bool = False) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return '<td data-sort="">-</td>'
    css = ' class="text"' if text_class else ""
    return f'<td{css} data-sort="{html.escape(str(value))}">{html.escape(_format(value))}</td>'


def _format(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def html_table(frame: pd.DataFrame, element_id: str = "", sortable: bool = False) -> str:
    attrs = f' id="{element_id}"' if element_id else ""
    attrs += ' class="sortable"' if sortable else ""
    # Text (left-aligned) is any column that is not all numbers: object or pandas 3's str dtype.
    text_columns = {c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])}
    head = "".join(f"<th{' class=text' if c in text_columns else ''}>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for record in frame.to_dict("records"):
        rows.append("<tr>" + "".join(_cell(record[c], c in text_columns) for c in frame.columns) + "</tr>")
    return f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _shown(sort_value, text: str) -> str:
    """A cell that sorts by a number but shows a text."""
    if _missing(sort_value):
        return '<td data-sort="">-</td>'
    return f'<td data-sort="{html.escape(str(sort_value))}">{html.escape(text)}</td>'


def _accuracy_cell(value, low, high) -> str:
    """97.25 [95.2, 98.5]: a percentage with its 95% interval."""
    if _missing(value):
        return _shown(None, "")
    interval = "" if _missing(low) else f" [{100 * low:.1f}, {100 * high:.1f}]"
    return _shown(round(100 * value, 2), f"{100 * value:.2f}{interval}")


def _latency_cell(row) -> str:
    """0.412 (0.401-0.450): the figure and the p10-p90 of its timed passes; flagged when noisy."""
    spread = "" if _missing(row["latency_p10_ms"]) else f" ({row['latency_p10_ms']:.3f}-{row['latency_p90_ms']:.3f})"
    noisy = " noisy" if row["latency_noisy"] else ""
    return _shown(round(row["latency_ms"], 4), f"{row['latency_ms']:.3f}{spread}{noisy}")


def front_table(data: ReportData) -> str:
    rows = []
    for row in data.front.to_dict("records"):
        cells = [
            _cell(row["trial"]),
            _cell(row["pick"] or "", True),
            _accuracy_cell(row["accuracy"], row["accuracy_low"], row["accuracy_high"]),
            _accuracy_cell(row["test_accuracy"], row["test_low"], row["test_high"]),
            _cell(int(row["macs"])),
            _cell(int(row["params"])),
            _latency_cell(row),
            _cell(row["notation"], True),
            f'<td class="text"><code>{html.escape(row["finetune"])}</code><br>'
            f"<code>{html.escape(row['export'])}</code></td>",
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    headers = [
        "trial",
        "pick",
        "val accuracy % [95% CI]",
        "test accuracy % [95% CI] (fine-tuned)",
        "MACs",
        "params",
        "latency ms (p10-p90)*",
        "notation",
        "next",
    ]
    head = "".join(f"<th{' class=text' if h in ('pick', 'notation', 'next') else ''}>{h}</th>" for h in headers)
    return (
        f'<table id="front-table" class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        '<p class="note">* timed back to back when the search ended, while nothing trained '
        "(where the run has that figure).</p>"
    )


# A block table's columns as the report heads them; accuracies become percentages.
_BLOCK_HEADERS = {
    "blocks": "blocks",
    "trials": "trials",
    "accuracy_median": "median val accuracy %",
    "accuracy_max": "best val accuracy %",
    "latency_median_ms": "median latency ms",
    "noisy": "noisy latencies (left out)",
}


def block_table(stats: pd.DataFrame, key: str) -> str:
    """What the blocks bought, by `key` (kind, kernel or dilation): readable headers, percentages."""
    shown = stats.copy()
    for column in ("accuracy_median", "accuracy_max"):
        shown[column] = (100 * shown[column]).round(2)
    shown["latency_median_ms"] = shown["latency_median_ms"].round(3)
    return html_table(shown.rename(columns={key: key, **_BLOCK_HEADERS}))


def baseline_section(data: ReportData) -> list[str]:
    """Against reference models: their figures, and each one's cheapest matching front candidate."""
    if data.baselines.empty:
        return []
    rows = []
    for row in data.baselines.to_dict("records"):
        cells = [
            _cell(row["baseline"], True),
            _cell(row["split"], True),
            _accuracy_cell(row["accuracy"], row["accuracy_low"], row["accuracy_high"]),
            _cell(int(row["macs"])),
            _cell(int(row["params"])),
            _latency_cell(row),
            _cell(row["latency_runtime"], True),
            _cell(row["epochs"]),
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "model",
            "scored on",
            "accuracy % [95% CI]",
            "MACs",
            "params",
            "latency ms (p10-p90)",
            "timed in",
            "epochs",
        )
    )
    matches = "".join(f"<li>{html.escape(c['sentence'])}</li>" for c in data.comparisons)
    return [
        "<h2>Against reference models</h2>",
        '<p class="note">Reference models trained on this run\'s own data and split by <code>dsdnas baseline</code>, '
        "profiled like the candidates. A front candidate matches one when its accuracy reaches the reference's 95% "
        "interval; the cheapest match is named, with its cost as a fraction of the reference's (its latency only "
        "when both were timed in the same runtime).</p>",
        f'<table id="baseline-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>',
        f'<ul id="baseline-matches">{matches}</ul>',
    ]
