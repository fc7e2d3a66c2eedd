"""The study: objectives in order, settings compared to rounding."""

import math

import pytest

from dsdnas.errors import DsdnasError
from dsdnas.nas.search.study import _same, check_objectives


def test_objectives_put_accuracy_first_and_refuse_the_rest():
    assert check_objectives(("latency", "accuracy", "params")) == ("accuracy", "latency", "params")
    for bad in (("accuracy", "speed"), ("macs", "params"), ("accuracy",), ("accuracy", "macs", "macs"), ()):
        with pytest.raises(DsdnasError, match="--objectives"):
            check_objectives(bad)


def test_settings_compare_floats_to_rounding_only():
    assert _same({"mean": [0.1307]}, {"mean": [0.1307 * (1 + 1e-14)]})
    assert not _same({"mean": [0.1307]}, {"mean": [0.1307 * 1.001]})
    assert not _same({"a": 1}, {"a": 1, "b": 2})
    assert not _same(1.0, math.nan)
