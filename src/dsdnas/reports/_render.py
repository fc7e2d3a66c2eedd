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
from dsdnas.reports._hypervolume import axes_sentence
from dsdnas.reports._plotly_imports import PlotlyJSONEncoder, get_plotlyjs
from dsdnas.reports._shipped import shipped_section
from dsdnas.reports._tables import baseline_section, block_table, front_table, html_table

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: right; }
td.text, th.text { text-align: left; } th { background: #f4f4f4; }
table.sortable th { cursor: pointer; } table.sortable th:hover { background: #e8e8e8; }
code { font-size: 0.8rem; background: #f6f6f6; padding: 0.1rem 0.3rem; }
#front-table td.text { max-width: 24rem; } #front-table td.text:last-child { min-width: 20rem; }
#front-table code { white-space: normal; overflow-wrap: break-word; }
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


def _latency_heading(data: ReportData) -> list[str]:
    """The latency plot's heading and note: measured here, or predicted by a table for another device."""
    if data.latency_table:
        label = html.escape(data.latency_table["label"])
        return [
            "<h2>Accuracy against predicted latency</h2>",
            f"<p class=\"note\">Latencies {label}: each model's is the sum of its layers' entries in that table, "
            "measured once on its device (dsdnas lut); no model was timed here. The table's error is in the "
            "summary. Red: the models no other beats on both accuracy and this latency.</p>",
        ]
    return [
        "<h2>Accuracy against measured latency</h2>",
        '<p class="note">One latency per model: batch 1, after warm-up, read as the summary says, with '
        "the p10-p90 of all timed passes as bars, the same figure as in every table. The members of the MACs "
        "front, and every model the search did not time while it ran, were timed back to back when it ended, "
        "while nothing trained; a search with latency as an objective or a limit, or in a runtime other than "
        "torch, timed the others before training them (the hover says when, and in what runtime). Red: the models no "
        "other beats on both accuracy and this latency. An x marks a latency measured on a machine too busy to "
        "trust. Where MACs and latency disagree shows here: depthwise convs cut MACs more than time.</p>",
    ]


def _figure(element_id: str, figure) -> str:
    spec = figure.to_plotly_json()
    config = {"displaylogo": False, "responsive": True}
    return (
        f'<div id="{element_id}" class="figure"></div>\n<script>Plotly.newPlot("{element_id}", '
        f"{_json(spec['data'])}, {_json(spec['layout'])}, {_json(config)});</script>"
    )


def _sections(data: ReportData) -> list[str]:
    summary = pd.DataFrame({"": list(data.summary), "value": [str(v) for v in data.summary.values()]})
    parts = [f"<h1>{html.escape(data.title)}</h1>", "<h2>Summary</h2>", html_table(summary, "summary")]
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
        _figure("pareto-macs", _figures.pareto_figure(data, "macs", "MACs")),
        *_latency_heading(data),
        _figure(
            "pareto-latency",
            _figures.pareto_figure(
                data, "latency_ms", "latency (ms)", front_column="latency_front", name="accuracy-latency front"
            ),
        ),
    ]
    if len(data.objectives) >= 3:
        parts.append(_figure("scatter-matrix", _figures.scatter_matrix(data)))
    parts += baseline_section(data)
    if data.rungs:
        parts += [
            "<h2>Early stopping: accuracy by rung</h2>",
            '<p class="note">Each candidate judged at a rung: its validation accuracy there, and at the end for '
            "those trained on (solid). Dotted grey: stopped, not among those its rung kept (the top half, or "
            "third, by non-dominated sorting on the rung's signal and the costs; each stop's reason says which). "
            "Stopped candidates appear on the plots above as grey triangles, at the "
            "accuracy they had when stopped; they are never on the front.</p>",
            _figure("rungs", _figures.rung_figure(data)),
        ]
    parts += [
        "<h2>Hypervolume history</h2>",
        f'<p class="note">{html.escape(axes_sentence(data.hypervolume))}</p>',
        _figure("hypervolume", _figures.hypervolume_figure(data)),
        "<h2>Front table</h2>",
        f'<p class="note">The front by cost. {html.escape(data.knee_rule.capitalize())}; best: the most accurate. '
        "Test accuracy: fine-tuned on all the training data and scored once on the test split. Click a header "
        "to sort.</p>",
        front_table(data),
        *shipped_section(data, _figure),
        "<h2>What the blocks bought</h2>",
        '<p class="note">Each block of each trained trial counts once: a trial with two separable blocks adds '
        "two separable rows with its accuracy and latency. Latencies flagged noisy are left out of the "
        "latency boxes and medians (column noisy counts them).</p>",
    ]
    for key in ("kind", "kernel", "dilation"):
        parts += [_figure(f"blocks-{key}", _figures.block_figure(data, key)), block_table(data.block_stats[key], key)]
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
        parts += [f"<h3>Trial {trial}</h3>", html_table(table)]
    return parts


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
