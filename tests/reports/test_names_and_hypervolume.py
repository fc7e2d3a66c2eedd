"""The report's readable parameter names and its hypervolume on stated axes, against values worked by hand."""

import math

import pytest

from dsdnas.nas.search.records import TrialRecord
from dsdnas.reports._hypervolume import axes_sentence, hypervolume_history
from dsdnas.reports._names import parameter_label


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("s1.b0.conv", "stage 2, block 1: kernel and dilation"),
        ("s0.b2.kind", "stage 1, block 3: standard or separable"),
        ("s2.width", "stage 3: width"),
        ("stages", "number of stages"),
        ("head.kind", "head: kind (gap, flatten, pool)"),
        ("something.new", "something.new"),
    ],
)
def test_parameter_names_read_as_people_count(name, label):
    assert parameter_label(name) == label


def test_the_hypervolume_is_the_share_of_the_unit_square_worked_by_hand():
    # Costs 10, sqrt(1000) and 100 sit at 0, 0.5 and 1 on the log axis; accuracy losses 0.2, 0.1, 0.05.
    finished = [
        TrialRecord(number=0, values=(0.8, 10.0)),
        TrialRecord(number=1, values=(0.9, math.sqrt(1000))),
        TrialRecord(number=2, values=(0.95, 100.0)),
    ]
    history = hypervolume_history(["accuracy", "macs"], finished)
    # After trial 0: 0.8 x 1. Trial 1 adds 0.1 x 0.5. Trial 2 adds 0.05 x 0 (it is at the dearest cost).
    assert history["values"] == pytest.approx([0.8, 0.85, 0.85])
    assert history["ranges"] == {"macs": (10.0, 100.0)} and history["final"] == pytest.approx(0.85)
    assert "0.850 of 1" in axes_sentence(history) and "log10 macs from 10 to 100" in axes_sentence(history)
