"""The study: objectives in order, samplers by name, settings compared to rounding."""

import math

import pytest

from dsdnas.errors import DsdnasError
from dsdnas.nas.search.study import _same, check_objectives, make_sampler


def test_objectives_put_accuracy_first_and_refuse_the_rest():
    assert check_objectives(("latency", "accuracy", "params")) == ("accuracy", "latency", "params")
    for bad in (("accuracy", "speed"), ("macs", "params"), ("accuracy",), ("accuracy", "macs", "macs"), ()):
        with pytest.raises(DsdnasError, match="--objectives"):
            check_objectives(bad)


def test_samplers_by_name_are_seeded_and_move_on_with_the_study():
    assert type(make_sampler("tpe", 0, 0)).__name__ == "TPESampler"
    assert type(make_sampler("nsga2", 0, 0)).__name__ == "NSGAIISampler"
    assert type(make_sampler("random", 0, 0)).__name__ == "RandomSampler"
    with pytest.raises(DsdnasError, match="--sampler 'grid'"):
        make_sampler("grid", 0, 0)


def test_settings_compare_floats_to_rounding_only():
    assert _same({"mean": [0.1307]}, {"mean": [0.1307 * (1 + 1e-14)]})
    assert not _same({"mean": [0.1307]}, {"mean": [0.1307 * 1.001]})
    assert not _same({"a": 1}, {"a": 1, "b": 2})
    assert not _same(1.0, math.nan)
