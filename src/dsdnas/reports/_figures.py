"""Plotly figures of the report, each built from `ReportData` alone."""

from __future__ import annotations

import pandas as pd

from dsdnas.reports._baselines import same_threads
from dsdnas.reports._data import ReportData
from dsdnas.reports._names import parameter_label
from dsdnas.reports._plotly_imports import go, make_subplots

FRONT_COLOR = "#d62728"
DOMINATED_COLOR = "rgba(31, 119, 180, 0.35)"
BASELINE_COLOR = "#2ca02c"
STOPPED_COLOR = "rgba(127, 127, 127, 0.6)"
IMPORTANCE = "%{y}: %{x:.1%}<extra></extra>"
HOVER = (
    "trial %{customdata[0]}<br>%{customdata[1]}<br>accuracy %{customdata[2]:.2%} "
    "(95%% CI %{customdata[3]})<br>MACs %{customdata[4]:,}<br>params %{customdata[5]:,}<br>"
    "latency %{customdata[6]:.3f} ms (p10-p90 %{customdata[7]}), %{customdata[9]}%{customdata[8]}<extra></extra>"
).replace("%%", "%")


def _span(low: float | None, high: float | None, *, scale: float = 1.0, digits: int = 1, unit: str = "") -> str:
    if low is None or high is None or low != low or high != high:
        return "unknown"
    return f"{scale * low:.{digits}f}-{scale * high:.{digits}f}{unit}"


def _custom(frame: pd.DataFrame) -> list[list]:
    """Hover data per point: the figures with their 95% interval and latency spread."""
    rows = []
    for row in frame.to_dict("records"):
        rows.append(
            [
                row["trial"],
                row["notation"],
                row["accuracy"],
                _span(row["accuracy_low"], row["accuracy_high"], scale=100, digits=1, unit="%"),
                row["macs"],
                row["params"],
                row["latency_ms"],
                _span(row["latency_p10_ms"], row["latency_p90_ms"], scale=1, digits=3, unit=" ms"),
                " NOISY: measured on a busy machine" if row["latency_noisy"] else "",
                row.get("latency_when") or "",
            ]
        )
    return rows


def _accuracy_bars(frame: pd.DataFrame) -> dict:
    """The 95% interval as asymmetric error bars."""
    return {
        "type": "data",
        "symmetric": False,
        "array": (frame["accuracy_high"] - frame["accuracy"]).fillna(0).tolist(),
        "arrayminus": (frame["accuracy"] - frame["accuracy_low"]).fillna(0).tolist(),
        "thickness": 1,
        "width": 0,
    }


def _latency_bars(frame: pd.DataFrame) -> dict:
    """p10 to p90 of the timed passes as asymmetric error bars."""
    return {
        "type": "data",
        "symmetric": False,
        "array": (frame["latency_p90_ms"] - frame["latency_ms"]).clip(lower=0).fillna(0).tolist(),
        "arrayminus": (frame["latency_ms"] - frame["latency_p10_ms"]).clip(lower=0).fillna(0).tolist(),
        "thickness": 1,
        "width": 0,
    }


def _symbols(frame: pd.DataFrame, base: str = "circle") -> list[str]:
    """A noisy latency gets its own marker, so it is never mistaken for a quiet one."""
    return ["x" if noisy else base for noisy in frame["latency_noisy"]]


def _layout(figure: go.Figure, title: str, *, x_title: str, y_title: str, log_x: bool = False) -> go.Figure:
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


def pareto_figure(
    data: ReportData, cost: str, cost_title: str, *, front_column: str = "pareto", name: str = "Pareto front"
) -> go.Figure:
    """Accuracy against a cost: the points of `front_column` highlighted and joined as steps, the rest faded."""
    points = data.points
    front, dominated = points[points[front_column]], points[~points[front_column]]
    figure = go.Figure()
    latency_axis = cost == "latency_ms"
    figure.add_trace(
        go.Scatter(
            x=dominated[cost],
            y=dominated["accuracy"],
            mode="markers",
            name="dominated",
            marker={"color": DOMINATED_COLOR, "size": 8, "symbol": _symbols(dominated) if latency_axis else "circle"},
            error_y=_accuracy_bars(dominated) | {"color": DOMINATED_COLOR},
            error_x=(_latency_bars(dominated) | {"color": DOMINATED_COLOR}) if latency_axis else None,
            customdata=_custom(dominated),
            hovertemplate=HOVER,
        )
    )
    if len(front):
        ordered = front.sort_values(cost)
        figure.add_trace(
            go.Scatter(
                x=ordered[cost],
                y=ordered["accuracy"],
                mode="lines",
                line={"shape": "hv", "color": FRONT_COLOR},
                name=f"{name} (steps)",
                hoverinfo="skip",
            )
        )
    figure.add_trace(
        go.Scatter(
            x=front[cost],
            y=front["accuracy"],
            mode="markers",
            name=name,
            marker={
                "color": FRONT_COLOR,
                "size": 11,
                "line": {"color": "black", "width": 1},
                "symbol": _symbols(front) if latency_axis else "circle",
            },
            error_y=_accuracy_bars(front) | {"color": FRONT_COLOR},
            error_x=(_latency_bars(front) | {"color": FRONT_COLOR}) if latency_axis else None,
            customdata=_custom(front),
            hovertemplate=HOVER,
        )
    )
    _add_stopped(figure, data, cost)
    _add_baselines(figure, data, cost)
    return _layout(
        figure,
        f"Accuracy against {cost_title}",
        x_title=f"{cost_title} (log scale)",
        y_title="validation accuracy",
        log_x=True,
    )


def _add_stopped(figure: go.Figure, data: ReportData, cost: str) -> None:
    """Candidates stopped at a rung, at their rung accuracy: their own marker, never joined to the front."""
    if data.stopped.empty:
        return
    figure.add_trace(
        go.Scatter(
            x=data.stopped[cost],
            y=data.stopped["accuracy"],
            mode="markers",
            name="stopped at a rung",
            marker={"color": STOPPED_COLOR, "size": 7, "symbol": "triangle-down"},
            customdata=_custom(data.stopped),
            hovertemplate=HOVER.replace("<extra></extra>", "<extra>stopped at a rung</extra>"),
        )
    )


def rung_figure(data: ReportData) -> go.Figure:
    """Accuracy by rung: each judged candidate's validation accuracy at its rungs (and at the end)."""
    figure = go.Figure()
    for curve in data.rungs:
        epochs, accuracies = zip(*curve["points"], strict=True)
        stopped = curve["status"] == "stopped"
        figure.add_trace(
            go.Scatter(
                x=list(epochs),
                y=list(accuracies),
                mode="lines+markers",
                name=f"trial {curve['trial']} ({curve['status']})",
                line={"color": STOPPED_COLOR if stopped else FRONT_COLOR, "dash": "dot" if stopped else "solid"},
                opacity=0.6 if stopped else 0.9,
                showlegend=False,
            )
        )
    figure.update_layout(title="Accuracy by rung", template="plotly_white", height=420)
    figure.update_xaxes(title="epochs trained", dtick=1)
    figure.update_yaxes(title="validation accuracy", tickformat=".1%")
    return figure


def _add_baselines(figure: go.Figure, data: ReportData, cost: str) -> None:
    """Reference models scored on the validation split, as labelled stars with their 95% interval; on the
    latency axis only those timed in the runtime, and on the threads, that timed the search's candidates."""
    shown = data.baselines[data.baselines["split"] == "validation"]
    if cost == "latency_ms":
        alike = shown["threads"].map(lambda threads: same_threads(threads, data.latency_threads)).astype(bool)
        shown = shown[(shown["latency_runtime"] == data.latency_source) & alike]
    if shown.empty:
        return
    figure.add_trace(
        go.Scatter(
            x=shown[cost],
            y=shown["accuracy"],
            mode="markers+text",
            name="reference models",
            text=shown["baseline"],
            textposition="top center",
            marker={"color": BASELINE_COLOR, "size": 14, "symbol": "star", "line": {"color": "black", "width": 1}},
            error_y=_accuracy_bars(shown) | {"color": BASELINE_COLOR},
            hovertemplate="%{text}<br>accuracy %{y:.2%}<br>" + cost + " %{x:,}<extra>reference model</extra>",
        )
    )


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
    figure.update_layout(title="Hypervolume after each finished trial", template="plotly_white", height=380)
    figure.update_xaxes(title="trial", tickformat="d")
    figure.update_yaxes(title="share of the unit square dominated", range=[0, 1])
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
    longest = 1
    for index, target in enumerate(targets, start=1):
        ranked = sorted(data.importances[target].items(), key=lambda item: item[1])
        longest = max(longest, len(ranked))
        labels = [parameter_label(name) for name, _ in ranked]
        figure.add_trace(
            go.Bar(
                x=[v for _, v in ranked], y=labels, orientation="h", showlegend=False, hovertemplate="%{y}: %{x:.1%}"
            ),
            row=1,
            col=index,
        )
    # Every bar labelled: the axis lists each one (dtick 1), and the figure grows with the bars.
    figure.update_yaxes(dtick=1, automargin=True)
    figure.update_xaxes(tickformat=".0%")
    figure.update_layout(
        title="Parameter importance (PED-ANOVA): how much each choice sets the best 10% apart (sums to 1)",
        template="plotly_white",
        height=max(420, 22 * longest + 140),
    )
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
