"""The one atomic writer: the old file or the new one, never half of one, and no temporary left."""

import json
import os

import pytest

from dsdnas.errors import RunError
from dsdnas.nas.files import atomic_write, read_json, write_json


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "metrics.json"
    write_json(path, {"a": 1})

    def half_then_fail(partial):
        partial.write_text('{"a": 2, "trunc')
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, half_then_fail)
    assert read_json(path) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_written_files_get_the_usual_permissions_and_parents(tmp_path):
    path = write_json(tmp_path / "deep" / "er" / "x.json", {"b": [1, 2]})
    assert json.loads(path.read_text()) == {"b": [1, 2]}
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_reading_bad_json_names_the_file_and_line(tmp_path):
    path = tmp_path / "run.json"
    path.write_text('{\n  "study": \n}')
    with pytest.raises(RunError, match=r"run.json is not valid JSON \(line 3\)"):
        read_json(path)
    with pytest.raises(RunError, match="does not exist"):
        read_json(tmp_path / "missing.json")
