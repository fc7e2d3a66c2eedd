"""Reference points from the literature: the CSV is checked line by line, and each point is judged
against the fine-tuned members."""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from dsdnas.errors import DataError
from dsdnas.reports import read_references
from dsdnas.reports._references import verdicts

DOCS = Path(__file__).resolve().parents[2] / "docs" / "references"
HEADER = "name,macs,params,accuracy,source\n"


def _csv(tmp_path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "points.csv"
    path.write_text(header + body)
    return path


def test_rows_are_read_with_accuracy_in_percent_and_an_empty_cost_left_out(tmp_path):
    frame = read_references(_csv(tmp_path, 'LeNet-5,,60000,99.05,"LeCun et al. 1998"\nlinear,7840,7850,88%,paper\n'))
    rows = frame.to_dict("records")
    assert rows[0]["accuracy"] == pytest.approx(0.9905) and pd.isna(rows[0]["macs"]) and rows[0]["params"] == 60000
    assert rows[1]["accuracy"] == pytest.approx(0.88) and rows[1]["macs"] == 7840


@pytest.mark.parametrize(
    ("body", "header", "message"),
    [
        ("x,,5,0.9,paper\n", HEADER, r"line 2 \(x\): accuracy '0.9' must be a test accuracy in percent"),
        ("x,,5,101,paper\n", HEADER, r"line 2 \(x\): accuracy '101'"),
        ("ok,,5,90,paper\ny,,,90,paper\n", HEADER, r"line 3 \(y\): give macs or params"),
        ("x,-3,,90,paper\n", HEADER, r"line 2 \(x\): macs '-3' must be a positive number"),
        ("x,many,,90,paper\n", HEADER, r"macs 'many' must be a positive number"),
        ("x,,5,90,\n", HEADER, r"line 2 \(x\): the source is empty"),
        (",,5,90,paper\n", HEADER, r"line 2: the name is empty"),
        ("x,5,90\n", "name,macs,accuracy\n", r"missing column\(s\) source"),
        ("x,90,paper\n", "name,accuracy,source\n", r"missing column\(s\) macs, params"),
        ("", HEADER, "no rows under the header"),
    ],
)
def test_a_bad_reference_file_names_the_line_and_the_field(tmp_path, body, header, message):
    path = _csv(tmp_path, body, header)
    with pytest.raises(DataError, match=message) as error:
        read_references(path)
    assert str(path) in str(error.value)


def test_a_file_may_leave_out_one_cost_column(tmp_path):
    frame = read_references(_csv(tmp_path, "LeNet-5,60000,99.05,LeCun et al. 1998\n", "name,params,accuracy,source\n"))
    assert frame.loc[0, "params"] == 60000 and pd.isna(frame.loc[0, "macs"])


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_references(tmp_path / "absent.csv")


@pytest.mark.parametrize("name", ["fashion-mnist.csv", "mnist.csv"])
def test_the_shipped_reference_files_are_valid_and_every_row_names_its_source(name):
    frame = read_references(DOCS / name)
    assert len(frame) >= 5 and frame["source"].str.len().min() > 20


@dataclass
class Tuned:
    number: int
    test_accuracy: float
    macs: int
    params: int


def test_a_point_is_dominated_only_by_a_member_at_most_as_costly_on_every_cost_it_gives(tmp_path):
    points = read_references(_csv(tmp_path, "cheap,,5000,90,a\nboth,20000,5000,90,b\nhard,,5000,99,c\ntiny,,10,50,d\n"))
    members = [Tuned(7, 0.91, 30_000, 4_000), Tuned(8, 0.95, 200_000, 90_000)]
    judged = {v["name"]: v for v in verdicts(points, members)}
    assert judged["cheap"]["dominated"] and judged["cheap"]["member"].number == 7
    assert not judged["both"]["dominated"]  # member 7 has few enough params but too many MACs
    assert "no fine-tuned member is that cheap" in judged["both"]["sentence"]
    assert (
        not judged["hard"]["dominated"]
        and "not dominated; trial 7 scores 91.00% at 4,000 params" in judged["hard"]["sentence"]
    )
    assert not judged["tiny"]["dominated"] and judged["tiny"]["member"] is None
    assert all(v["sentence"].endswith("nothing fine-tuned yet") for v in verdicts(points, []))
