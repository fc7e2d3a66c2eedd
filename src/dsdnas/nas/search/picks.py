"""The two named models of a front: the best and the knee. Pure functions over trial records.

    best   the most accurate front member (fewer of the first cost breaks a tie)
    knee   the front member farthest from the straight line joining the front's two ends,
           once accuracy and log10 of the first cost (MACs by default) are each scaled to
           [0, 1]: where spending more starts to buy little accuracy

Every front table marks them (the terminal, `trials --pareto`, the report), `--pick best|knee`
chooses them, and the end of a search names them.
"""

from __future__ import annotations

import math

from dsdnas.nas.search.records import TrialRecord

PICKS = ("best", "knee")
KNEE_RULE = (
    "the knee is the front point farthest from the line joining the front's two ends, "
    "accuracy against log10 cost, both scaled to [0, 1]"
)


def best(front: list[TrialRecord]) -> TrialRecord:
    """The most accurate front member; fewer of the first cost breaks a tie."""
    return max(front, key=lambda t: (t.values[0], -t.values[1]))


def knee(front: list[TrialRecord]) -> TrialRecord:
    """The front point farthest from the line joining its two ends (see the module docstring).

    `front` is ordered by its first cost; with two points or fewer the knee is the best.
    """
    if len(front) <= 2:
        return max(front, key=lambda t: t.values[0])
    points = [(math.log10(max(t.values[1], 1e-12)), t.values[0]) for t in front]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    scaled = [((x - min(xs)) / span_x, (y - min(ys)) / span_y) for x, y in points]
    (x0, y0), (x1, y1) = scaled[0], scaled[-1]
    length = math.hypot(x1 - x0, y1 - y0) or 1.0

    def distance(point: tuple[float, float]) -> float:
        return abs((y1 - y0) * point[0] - (x1 - x0) * point[1] + x1 * y0 - y1 * x0) / length

    index = max(range(len(front)), key=lambda i: distance(scaled[i]))
    return front[index]


def front_picks(front: list[TrialRecord]) -> dict[int, str]:
    """Trial number -> 'best', 'knee' or 'best, knee', for the front members that are either."""
    if not front:
        return {}
    marks: dict[int, list[str]] = {}
    for name, chosen in (("best", best(front)), ("knee", knee(front))):
        marks.setdefault(chosen.number, []).append(name)
    return {number: ", ".join(names) for number, names in marks.items()}
