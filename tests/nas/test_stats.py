"""Wilson intervals against published values."""

import pytest

from dsdnas.nas.stats import tied_with_best, wilson_interval

# Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I, method 3 (Wilson
# score, no continuity correction): 81/263, 15/148, 0/20 and 1/29.
NEWCOMBE = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
]


@pytest.mark.parametrize(("successes", "n", "low", "high"), NEWCOMBE)
def test_wilson_matches_newcombes_table(successes, n, low, high):
    got = wilson_interval(successes / n, n)
    assert got == pytest.approx((low, high), abs=1e-4)


def test_four_hundred_images_near_97_percent_is_about_plus_or_minus_one_and_a_half_points():
    low, high = wilson_interval(0.97, 400)
    assert 0.947 < low < 0.95 and 0.982 < high < 0.985
    assert wilson_interval(0.5, 0) == (0.0, 1.0)


def test_ties_are_the_candidates_whose_interval_reaches_the_best():
    assert tied_with_best([0.97, 0.965, 0.90], 400) == [1]
    assert tied_with_best([0.97, 0.965, 0.90], 40_000) == []


def test_one_image_and_impossible_accuracies_keep_the_interval_inside_zero_and_one():
    z2 = 1.959963984540054**2
    low, high = wilson_interval(1.0, 1)  # one image, right: Wilson's lower bound is 1 / (1 + z^2)
    assert abs(low - 1 / (1 + z2)) < 1e-12 and high == 1.0
    assert wilson_interval(1.5, 100) == wilson_interval(1.0, 100)  # clipped, not a math error
    assert wilson_interval(-0.2, 100) == wilson_interval(0.0, 100)
    # At 100% the upper bound is 1 in exact arithmetic, and just over it in floats for many n.
    assert all(wilson_interval(1.0, n)[1] == 1.0 for n in (16, 40, 46, 54, 68))
