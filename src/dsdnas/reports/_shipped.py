"""The report's shipped-front section: fine-tuned test accuracy against MACs and params, each member
linked to its search-time validation accuracy, beside the reference models and the literature."""

from __future__ import annotations

import html

from dsdnas.nas.search.shipped import shipped_front
from dsdnas.reports._data import ReportData
from dsdnas.reports._plotly_imports import go

SHIPPED_COLOR = "#d62728"
OFF_FRONT_COLOR = "rgba(31, 119, 180, 0.6)"
SEARCH_COLOR = "rgba(127, 127, 127, 0.7)"
BASELINE_COLOR = "#2ca02c"
REFERENCE_COLOR = "#9467bd"
LABEL_PLACES = ("bottom center", "top left", "bottom right", "top right")  # cost-sorted labels take turns


def shipped_figure(data: ReportData, cost: str) -> go.Figure:
    """Test accuracy (95% interval) against `cost` (macs or params) for the fine-tuned members, a grey
    line down or up to each one's validation accuracy in the search, the reference models and points."""
    figure = go.Figure()
    for member in data.members:  # the change from the search's figure to the shipped one
        if member.val_accuracy is not None:
            x = getattr(member, cost)
            figure.add_trace(
                go.Scatter(
                    x=[x, x],
                    y=[member.val_accuracy, member.test_accuracy],
                    mode="lines",
                    line={"color": SEARCH_COLOR, "dash": "dot", "width": 1},
                    showlegend=False,
                    hoverinfo="skip",
                )
            )
    searched = [m for m in data.members if m.val_accuracy is not None]
    figure.add_trace(
        go.Scatter(
            x=[getattr(m, cost) for m in searched],
            y=[m.val_accuracy for m in searched],
            mode="markers",
            name="validation accuracy in the search",
            marker={"color": "white", "size": 8, "line": {"color": SEARCH_COLOR, "width": 1.5}},
            hovertemplate="trial %{text}: validation %{y:.2%} in the search<extra></extra>",
            text=[str(m.number) for m in searched],
        )
    )
    # each plot marks the members no other beats on test accuracy and its own cost
    front = data.shipped_front if cost == "macs" else {m.number for m in shipped_front(data.members, cost)}
    groups = ((True, "shipped front", SHIPPED_COLOR), (False, "fine-tuned, dominated", OFF_FRONT_COLOR))
    for on_front, name, color in groups:
        chosen = [m for m in data.members if (m.number in front) == on_front]
        if not chosen:
            continue
        lows, highs = zip(*(m.test_interval for m in chosen), strict=True)
        figure.add_trace(
            go.Scatter(
                x=[getattr(m, cost) for m in chosen],
                y=[m.test_accuracy for m in chosen],
                mode="markers",
                name=name,
                marker={"color": color, "size": 10, "line": {"color": "black", "width": 1}},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [h - m.test_accuracy for m, h in zip(chosen, highs, strict=True)],
                    "arrayminus": [m.test_accuracy - lo for m, lo in zip(chosen, lows, strict=True)],
                    "thickness": 1,
                    "width": 0,
                },
                text=[
                    f"trial {m.number}: test {100 * m.test_accuracy:.2f}% [{100 * lo:.1f}, {100 * h:.1f}] on "
                    f"{m.test_size:,} images after {m.epochs} epochs; {m.macs:,} MACs, {m.params:,} params"
                    for m, lo, h in zip(chosen, lows, highs, strict=True)
                ],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    _add_baselines(figure, data, cost)
    _add_references(figure, data, cost)
    title = {"macs": "MACs", "params": "parameters"}[cost]
    figure.update_layout(
        title=f"Fine-tuned test accuracy against {title}",
        template="plotly_white",
        height=480,
        margin={"t": 50, "l": 60, "r": 20, "b": 50},
        legend={"orientation": "h", "y": -0.2},
    )
    figure.update_xaxes(title=f"{title} (log scale)", type="log")
    figure.update_yaxes(title="accuracy", tickformat=".1%")
    return figure


def _add_baselines(figure: go.Figure, data: ReportData, cost: str) -> None:
    rows = data.baselines.dropna(subset=[cost])
    marker = {"color": BASELINE_COLOR, "size": 10, "symbol": "square"}
    hover = "%{text}: %{y:.2%} on the %{customdata} split<extra></extra>"
    _labelled(figure, rows, cost, name="reference models (dsdnas baseline)", label="baseline", detail="split",
              places=("top center",), marker=marker, hover=hover)  # fmt: skip


def _add_references(figure: go.Figure, data: ReportData, cost: str) -> None:
    rows = data.references[data.references[cost].notna()] if not data.references.empty else data.references
    marker = {"color": REFERENCE_COLOR, "size": 11, "symbol": "diamond"}
    hover = "%{text}: %{y:.2%} (%{customdata})<extra></extra>"
    _labelled(figure, rows.sort_values(cost), cost, name="published (reference points)", label="name",
              detail="source", places=LABEL_PLACES, marker=marker, hover=hover)  # fmt: skip


def _labelled(figure: go.Figure, rows, cost: str, *, name: str, label: str, detail: str, places, marker, hover) -> None:
    """Points with their name written beside them; cost-sorted labels take turns among `places`."""
    if rows.empty:
        return
    figure.add_trace(
        go.Scatter(
            x=rows[cost],
            y=rows["accuracy"],
            mode="markers+text",
            name=name,
            text=rows[label],
            textposition=[places[i % len(places)] for i in range(len(rows))],
            marker=marker,
            customdata=rows[detail],
            hovertemplate=hover,
        )
    )


def shipped_section(data: ReportData, figure_html) -> list[str]:
    """The section's HTML; `figure_html(id, figure)` embeds a figure as the rest of the report does."""
    parts = ["<h2>The shipped front: fine-tuned and tested</h2>"]
    if not data.members:
        parts.append(
            '<p class="note" id="shipped-note">No trial has been fine-tuned yet. '
            "<code>dsdnas finetune RUN --front</code> (or <code>--top K</code>) trains the front's members on all "
            "the training data and scores each once on "
            "the test split; this section then shows them against the search's figures and the references.</p>"
        )
        return parts + _verdict_list(data)
    parts += [
        '<p class="note" id="shipped-note">Each fine-tuned trial: its test accuracy (filled, with the 95% Wilson '
        "interval), joined by a dotted line to its validation accuracy in the search (hollow), where it was "
        "trained for fewer epochs, often on less data. Red: the shipped front, the members no other beats on "
        "both test accuracy and the plot's cost (Optuna's non-dominated sort). Green squares: reference models trained "
        "here; purple diamonds: published results, labelled.</p>",
        figure_html("shipped-macs", shipped_figure(data, "macs")),
        figure_html("shipped-params", shipped_figure(data, "params")),
    ]
    return parts + _verdict_list(data)


def _verdict_list(data: ReportData) -> list[str]:
    if not data.verdicts:
        return []
    dominated = sum(v["dominated"] for v in data.verdicts)
    items = "".join(
        f'<li class="{"dominated" if v["dominated"] else "open"}">{html.escape(v["sentence"])}</li>'
        for v in data.verdicts
    )
    return [
        f'<p class="note">Reference points (RUN/references.csv): a fine-tuned member dominates {dominated} of '
        f"{len(data.verdicts)}, that is, scores at least their test accuracy at no more of the cost(s) they give.</p>",
        f'<ul id="reference-verdicts">{items}</ul>',
    ]
