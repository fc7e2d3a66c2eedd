"""The report's only door to plotly."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots
from plotly.utils import PlotlyJSONEncoder

__all__ = ["PlotlyJSONEncoder", "get_plotlyjs", "go", "make_subplots"]
