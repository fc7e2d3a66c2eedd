import pytest

from dsdnas.errors import DsdnasError
from dsdnas.nas.search.budget import Budget, parse_budget


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50", Budget(trials=50)),
        ("90s", Budget(seconds=90)),
        ("30m", Budget(seconds=1800)),
        ("2h", Budget(seconds=7200)),
    ],
)
def test_parse_budget(text, expected):
    assert parse_budget(text) == expected


@pytest.mark.parametrize("text", ["0", "abc", "5d", "-3"])
def test_bad_budget_is_refused(text):
    with pytest.raises(DsdnasError, match="--budget"):
        parse_budget(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", Budget(trials=1)), ("0.5s", Budget(seconds=0.5)), ("1.5m", Budget(seconds=90)), (" 3 ", Budget(trials=3))],
)
def test_the_smallest_budgets_are_accepted(text, expected):
    assert parse_budget(text) == expected


@pytest.mark.parametrize("text", ["0s", "0.0m", "1x", "s", "1 d"])
def test_a_time_must_be_positive_and_in_s_m_or_h(text):
    with pytest.raises(DsdnasError, match=r"--budget .*give a trial count \(50\) or a time \(90s, 30m, 2h\)"):
        parse_budget(text)


def test_the_budget_reads_back_as_the_user_wrote_it():
    assert [str(parse_budget(text)) for text in ("050", "90s", "1.5M", 7)] == ["050", "90s", "1.5M", "7"]
    assert str(Budget(trials=12)) == "12" and str(Budget(seconds=90.0)) == "90s"
    assert parse_budget(Budget(seconds=5, text="5s")).text == "5s"  # already parsed: as it is


def test_a_budget_is_a_count_or_a_time_never_both_or_neither():
    for wrong in ({}, {"trials": 3, "seconds": 5.0}):
        with pytest.raises(ValueError) as refused:
            Budget(**wrong)
        assert str(refused.value) == "a Budget is a trial count or a time, exactly one of them"
