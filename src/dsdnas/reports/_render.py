"""Render `ReportData` as one self-contained HTML file: plotly.js and all data inline.

The page makes no network request. Every user-supplied string is escaped: HTML text
through html.escape, figure data through JSON with <, > and & written as \\u escapes, so
no string can close a <script> element.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from dsdnas.nas.files import write_text
from dsdnas.reports import _figures
from dsdnas.reports._data import ReportData
from dsdnas.reports._plotly_imports import PlotlyJSONEncoder, get_plotlyjs

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: right; }
td.text, th.text { text-align: left; } th { background: #f4f4f4; }
table.sortable th { cursor: pointer; } table.sortable th:hover { background: #e8e8e8; }
code { font-size: 0.8rem; background: #f6f6f6; padding: 0.1rem 0.3rem; white-space: nowrap; }
.note { color: #666; font-size: 0.9rem; }
"""

_SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (header, column) {
    header.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.from(body.rows);
      var ascending = header.dataset.order !== "asc";
      header.dataset.order = ascending ? "asc" : "desc";
      rows.sort(function (a, b) {
        var x = a.cells[column].dataset.sort, y = b.cells[column].dataset.sort;
        var nx = parseFloat(x), ny = parseFloat(y);
        var result = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y) : nx - ny;
        return ascending ? result : -result;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def _json(value) -> str:
    text = json.dumps(value, cls=PlotlyJSONEncoder)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _figure(element_id: str, figure) -> str:
    spec = figure.to_plotly_json()
    config = {"displaylogo": False, "responsive": True}
    return (
        f'<div id="{element_id}" class="figure"></div>\n<script>Plotly.newPlot("{element_id}", '
        f"{_json(spec['data'])}, {_json(spec['layout'])}, {_json(config)});</script>"
    )


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


def _table(frame: pd.DataFrame, element_id: str = "", sortable: bool = False) -> str:
    attrs = f' id="{element_id}"' if element_id else ""
    attrs += ' class="sortable"' if sortable else ""
    text_columns = {c for c in frame.columns if frame[c].dtype == object}
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


def _front_table(data: ReportData) -> str:
    rows = []
    for row in data.front.to_dict("records"):
        cells = [
            _cell(row["trial"]),
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
        "val accuracy % [95% CI]",
        "test accuracy % [95% CI] (fine-tuned)",
        "MACs",
        "params",
        "latency ms (p10-p90)",
        "notation",
        "next",
    ]
    head = "".join(f"<th{' class=text' if h in ('notation', 'next') else ''}>{h}</th>" for h in headers)
    return (
        f'<table id="front-table" class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _sections(data: ReportData) -> list[str]:
    summary = pd.DataFrame({"": list(data.summary), "value": [str(v) for v in data.summary.values()]})
    parts = [f"<h1>{html.escape(data.title)}</h1>", "<h2>Summary</h2>", _table(summary, "summary")]
    if data.accuracy_note:
        parts.append(f'<p class="note" id="accuracy-note">{html.escape(data.accuracy_note)}</p>')
    if data.points.empty:
        parts.append('<p class="note">No finished trial yet.</p>')
        return parts
    parts += [
        "<h2>Pareto front: accuracy against MACs</h2>",
        '<p class="note">MACs are multiply-adds of conv and linear layers (fvcore). Front points are red and '
        "joined as steps; dominated points are faded. Vertical bars: the 95% Wilson interval of each "
        "validation accuracy. Hover for details.</p>",
        _figure("pareto-macs", _figures.pareto_figure(data, "macs", "MACs", step_line=True)),
        "<h2>Accuracy against measured latency</h2>",
        '<p class="note">Batch 1, the lowest of 5 round medians after warm-up, with the p10-p90 of all timed '
        "passes as bars; the front was measured again together at the end. An x marks a latency measured on "
        "a machine too busy to trust. Red: the study's Pareto front. Where MACs and latency disagree shows "
        "here: depthwise convs cut MACs more than time.</p>",
        _figure("pareto-latency", _figures.pareto_figure(data, "latency_ms", "latency (ms)", step_line=False)),
    ]
    if len(data.objectives) >= 3:
        parts.append(_figure("scatter-matrix", _figures.scatter_matrix(data)))
    parts += _baseline_section(data)
    if data.rungs:
        parts += [
            "<h2>Early stopping: accuracy by rung</h2>",
            '<p class="note">Each candidate judged at a rung: its validation accuracy there, and at the end for '
            "those trained on (solid). Dotted grey: stopped, not in the top third of its rung by non-dominated "
            "sorting on accuracy and cost. Stopped candidates appear on the plots above as grey triangles, at the "
            "accuracy they had when stopped; they are never on the front.</p>",
            _figure("rungs", _figures.rung_figure(data)),
        ]
    reference = ", ".join(f"{k} = {v:.4g}" for k, v in data.hypervolume["reference"].items())
    parts += [
        "<h2>Hypervolume history</h2>",
        f'<p class="note">Reference point: {html.escape(reference)}.</p>',
        _figure("hypervolume", _figures.hypervolume_figure(data)),
        "<h2>Front table</h2>",
        '<p class="note">Click a header to sort.</p>',
        _front_table(data),
        "<h2>What the blocks bought</h2>",
        '<p class="note">Each block of each trained trial counts once: a trial with two separable blocks adds '
        "two separable rows with its accuracy and latency. Latencies flagged noisy are left out of the "
        "latency boxes and medians (column noisy counts them).</p>",
    ]
    for key in ("kind", "kernel", "dilation"):
        parts += [_figure(f"blocks-{key}", _figures.block_figure(data, key)), _table(data.block_stats[key])]
    parts.append("<h2>Parameter importance</h2>")
    parts.append(f'<p class="note">{html.escape(data.importance_note)}</p>')
    if data.importances:
        parts.append(_figure("importance", _figures.importance_figure(data)))
    parts += [
        "<h2>Learning curves of the front</h2>",
        _figure("curves", _figures.curves_figure(data)),
        "<h2>Architectures on the front</h2>",
    ]
    for trial, table in sorted(data.layer_tables.items()):
        parts += [f"<h3>Trial {trial}</h3>", _table(table)]
    return parts


def _baseline_section(data: ReportData) -> list[str]:
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
            _cell(row["epochs"]),
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(
        f"<th>{h}</th>"
        for h in ("model", "scored on", "accuracy % [95% CI]", "MACs", "params", "latency ms (p10-p90)", "epochs")
    )
    matches = "".join(f"<li>{html.escape(c['sentence'])}</li>" for c in data.comparisons)
    return [
        "<h2>Against reference models</h2>",
        '<p class="note">Reference models trained on this run\'s own data and split by <code>dsdnas baseline</code>, '
        "profiled like the candidates. A front candidate matches one when its accuracy reaches the reference's 95% "
        "interval; the cheapest match is named, with its cost as a fraction of the reference's.</p>",
        f'<table id="baseline-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>',
        f'<ul id="baseline-matches">{matches}</ul>',
    ]


def render_report(data: ReportData) -> str:
    """The whole HTML page as a string."""
    body = "\n".join(_sections(data))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(data.title)}</title><style>{_STYLE}</style>"
        f"<script>{get_plotlyjs()}</script></head>\n<body>\n{body}\n<script>{_SORT_SCRIPT}</script>\n</body></html>\n"
    )


def write_report(data: ReportData, path: str | Path) -> Path:
    path = Path(path)
    write_text(path, render_report(data))
    return path
