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
