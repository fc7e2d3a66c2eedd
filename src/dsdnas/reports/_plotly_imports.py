"""The report's only door to plotly (and to Optuna's plotly-based helpers)."""

from __future__ import annotations

import warnings

import optuna
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots
from plotly.utils import PlotlyJSONEncoder

__all__ = ["PlotlyJSONEncoder", "get_plotlyjs", "go", "hypervolume_values", "make_subplots"]


def hypervolume_values(study: optuna.Study, reference: list[float]) -> tuple[list[int], list[float]]:
    """Optuna's hypervolume after each trial, read off its own history plot."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the plot is experimental in some Optuna versions
        figure = optuna.visualization.plot_hypervolume_history(study, reference)
    if not figure.data:
        return [], []
    trace = figure.data[0]
    return [int(x) for x in trace.x], [float(y) for y in trace.y]
