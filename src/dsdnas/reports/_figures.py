"""Plotly figures of the report, each built from `ReportData` alone."""

from __future__ import annotations

import pandas as pd

from dsdnas.reports._data import ReportData
from dsdnas.reports._plotly_imports import go, make_subplots

FRONT_COLOR = "#d62728"
DOMINATED_COLOR = "rgba(31, 119, 180, 0.35)"
HOVER = (
    "trial %{customdata[0]}<br>%{customdata[1]}<br>accuracy %{customdata[2]:.2%}<br>"
    "MACs %{customdata[3]:,}<br>params %{customdata[4]:,}<br>latency %{customdata[5]:.3f} ms<extra></extra>"
)


def _custom(frame: pd.DataFrame) -> list[list]:
    return frame[["trial", "notation", "accuracy", "macs", "params", "latency_ms"]].values.tolist()


def _layout(figure: go.Figure, title: str, x_title: str, y_title: str, log_x: bool = False) -> go.Figure:
    figure.update_layout(
        title=title,
        template="plotly_white",
        height=460,
        margin={"t": 50, "l": 60, "r": 20, "b": 50},
        legend={"orientation": "h", "y": -0.18},
    )
    figure.update_xaxes(title=x_title, type="log" if log_x else "linear")
    figure.update_yaxes(title=y_title, tickformat=".1%")
    return figure


def pareto_figure(data: ReportData, cost: str, cost_title: str, step_line: bool) -> go.Figure:
    """Accuracy against a cost: front points highlighted (and joined as steps), the rest faded."""
    points = data.points
    front, dominated = points[points["pareto"]], points[~points["pareto"]]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=dominated[cost],
            y=dominated["accuracy"],
            mode="markers",
            name="dominated",
            marker={"color": DOMINATED_COLOR, "size": 8},
            customdata=_custom(dominated),
            hovertemplate=HOVER,
        )
    )
    if step_line and len(front):
        ordered = front.sort_values(cost)
        figure.add_trace(
            go.Scatter(
                x=ordered[cost],
                y=ordered["accuracy"],
                mode="lines",
                line={"shape": "hv", "color": FRONT_COLOR},
                name="front (steps)",
                hoverinfo="skip",
            )
        )
    figure.add_trace(
        go.Scatter(
            x=front[cost],
            y=front["accuracy"],
            mode="markers",
            name="Pareto front",
            marker={"color": FRONT_COLOR, "size": 11, "line": {"color": "black", "width": 1}},
            customdata=_custom(front),
            hovertemplate=HOVER,
        )
    )
    return _layout(figure, f"Accuracy against {cost_title}", f"{cost_title} (log scale)", "validation accuracy", True)


def scatter_matrix(data: ReportData) -> go.Figure:
    columns = {"accuracy": "accuracy", "macs": "macs", "params": "params", "latency": "latency_ms"}
    points = data.points
    figure = go.Figure(
        go.Splom(
            dimensions=[{"label": name, "values": points[columns[name]]} for name in data.objectives],
            marker={"color": [FRONT_COLOR if p else DOMINATED_COLOR for p in points["pareto"]], "size": 6},
            customdata=_custom(points),
            hovertemplate=HOVER,
            diagonal_visible=False,
        )
    )
    figure.update_layout(title="All objectives against each other", template="plotly_white", height=600)
    return figure


def hypervolume_figure(data: ReportData) -> go.Figure:
    history = data.hypervolume
    figure = go.Figure(go.Scatter(x=history["trials"], y=history["values"], mode="lines+markers", name="hypervolume"))
    figure.update_layout(title="Hypervolume after each trial", template="plotly_white", height=380)
    figure.update_xaxes(title="trial", tickformat="d")
    figure.update_yaxes(title="hypervolume")
    return figure


def block_figure(data: ReportData, key: str) -> go.Figure:
    raw = data.block_stats["raw"]
    figure = make_subplots(rows=1, cols=2, subplot_titles=("validation accuracy", "latency (ms, batch 1)"))
    for value in sorted(raw[key].unique(), key=str):
        subset = raw[raw[key] == value]
        label = f"{key} {value}"
        figure.add_trace(go.Box(y=subset["accuracy"], name=label, boxpoints="all", showlegend=False), row=1, col=1)
        figure.add_trace(go.Box(y=subset["latency_ms"], name=label, boxpoints="all", showlegend=False), row=1, col=2)
    figure.update_layout(title=f"What the blocks bought: by {key}", template="plotly_white", height=400)
    figure.update_yaxes(tickformat=".1%", row=1, col=1)
    return figure


def importance_figure(data: ReportData) -> go.Figure:
    targets = list(data.importances)
    figure = make_subplots(rows=1, cols=len(targets), subplot_titles=[f"for {t}" for t in targets])
    for index, target in enumerate(targets, start=1):
        ranked = sorted(data.importances[target].items(), key=lambda item: item[1])
        figure.add_trace(
            go.Bar(x=[v for _, v in ranked], y=[k for k, _ in ranked], orientation="h", showlegend=False),
            row=1,
            col=index,
        )
    figure.update_layout(title="Parameter importance (fANOVA)", template="plotly_white", height=420)
    return figure


def curves_figure(data: ReportData) -> go.Figure:
    figure = go.Figure()
    for trial, history in sorted(data.curves.items()):
        figure.add_trace(
            go.Scatter(x=list(range(1, len(history) + 1)), y=history, mode="lines+markers", name=f"trial {trial}")
        )
    figure.update_layout(title="Learning curves of the front", template="plotly_white", height=380)
    figure.update_xaxes(title="epoch", dtick=1)
    figure.update_yaxes(title="validation accuracy", tickformat=".1%")
    return figure
