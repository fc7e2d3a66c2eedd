"""The shipped front's pure logic: members spread over the cost range, its front, the member export ships."""

from dataclasses import dataclass
from pathlib import Path

import pytest

from dsdnas.errors import RunError
from dsdnas.nas.search.shipped import Member, Shipped, choose_member, shipped_front, spread


@dataclass
class Point:
    number: int
    values: tuple[float, float]


def member(number: int, accuracy: float, macs: int, latency_ms: float = 1.0) -> Member:
    return Member(number, Path(str(number)), accuracy, 1000, None, macs, macs // 2, latency_ms, 1, 1.0)


def test_spread_keeps_both_ends_and_the_member_nearest_each_log_spaced_cost():
    front = [Point(n, (0.5, cost)) for n, cost in enumerate([1e3, 2e3, 1e5, 3e5, 1e7])]
    assert [p.number for p in spread(front, 3)] == [0, 2, 4]  # targets 1e3, 1e5, 1e7
    assert [p.number for p in spread(front, 2)] == [0, 4]
    # targets 1e3, ~2.2e4 (nearest in log10: 1e5), ~4.6e5 (3e5), 1e7
    assert [p.number for p in spread(front, 4)] == [0, 2, 3, 4]
    assert spread(front, 9) == front


def test_shipped_front_drops_a_member_another_beats_on_test_accuracy_and_macs():
    members = [member(5, 0.95, 300), member(1, 0.90, 100), member(2, 0.85, 200), member(3, 0.90, 150)]
    assert [m.number for m in shipped_front(members)] == [1, 5]  # 2 and 3 lose to 1: less accurate or dearer


def test_export_chooses_by_test_accuracy_within_the_budgets():
    members = [member(1, 0.80, 1_000, 0.1), member(2, 0.93, 10_000, 0.2), member(3, 0.95, 1_000_000, 5.0)]
    shipped = Shipped([1, 2, 3], {}, members)
    assert choose_member(shipped, pick="best", max_latency_ms=None, max_macs=None).number == 3
    # knee on normalised (log10 MACs, accuracy): 2 sits far above the line from 1 to 3
    assert choose_member(shipped, pick="knee", max_latency_ms=None, max_macs=None).number == 2
    assert choose_member(shipped, pick=None, max_latency_ms=1.0, max_macs=None).number == 2
    assert choose_member(shipped, pick=None, max_latency_ms=None, max_macs=5_000).number == 1
    with pytest.raises(RunError, match=r"no fine-tuned front member fits --max-latency-ms 0.01: the cheapest, trial 1"):
        choose_member(shipped, pick=None, max_latency_ms=0.01, max_macs=None)


def test_a_shipped_front_is_complete_only_when_every_named_member_finished():
    assert not Shipped([1, 2], {}, [member(1, 0.9, 100)]).complete
    assert Shipped([1], {}, [member(1, 0.9, 100)]).complete
    assert not Shipped([], {}, []).complete
