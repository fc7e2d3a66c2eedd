"""--out where it cannot go: one line naming --out, exit 2, and nothing already there lost.

Found by a newcomer's tour: a report's --out naming a folder, or an export's naming a place
the system refuses, failed on a temporary file's name with exit 1; an export replaced a
model.py of the user's own without a word; `dsdnas lut --out` on a file that is no table
blamed --latency-lut.
"""

import errno

import pytest

import dsdnas
from dsdnas.errors import DsdnasError
from tests.support import stderr_apart_runner

UNWRITABLE = "/proc/dsdnas-test"  # /proc refuses new files even to root


def _cli(*args: object):
    from dsdnas.cli import app

    return stderr_apart_runner().invoke(app, [str(arg) for arg in args])


def _one_line(result, code: int = 2) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    dsdnas.search(budget=1, dataset="mnist-sample", space="dsd-tiny", epochs=1, train_limit=600, device="cpu", out=out)
    return out


@pytest.mark.slow
def test_a_reports_out_that_is_a_folder_or_unwritable_is_named(run, tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    line = _one_line(_cli("report", run, "--out", folder))
    assert line == f"error: --out {folder} is a folder; pass a file name, such as {folder / 'report.html'}"
    assert list(folder.iterdir()) == []
    line = _one_line(_cli("report", run, "--out", f"{UNWRITABLE}/report.html"))
    assert line.startswith(f"error: --out {UNWRITABLE}/report.html: cannot write there (")
    assert line.endswith("); pass a path you can write to")


@pytest.mark.slow
def test_an_export_never_replaces_files_it_did_not_write_and_names_an_unwritable_out(run, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "model.py").write_text("# my own model\n")
    line = _one_line(_cli("export", run, "--out", mine))
    assert line == (
        f"error: --out {mine} already holds model.py, which dsdnas export did not write: "
        "pass another --out (nothing was written)"
    )
    assert [path.name for path in mine.iterdir()] == ["model.py"] and (
        mine / "model.py"
    ).read_text() == "# my own model\n"
    # An earlier export of ours is shipped again in place: the folder holds the same files, written anew.
    shipped = tmp_path / "shipped"
    assert _cli("export", run, "--out", shipped).exit_code == 0
    first = (shipped / "weights.safetensors").stat().st_mtime_ns
    again = _cli("export", run, "--out", shipped)
    assert again.exit_code == 0, again.stderr
    assert (shipped / "weights.safetensors").stat().st_mtime_ns > first
    # The formats asked for: a py export leaves a model.onnx it would not write; shipped again in place with fewer
    # formats, an earlier export of ours loses the files it no longer ships (the folder would hold two models).
    (mine / "model.py").unlink()
    (mine / "model.onnx").write_text("my own onnx")
    assert _cli("export", run, "--out", mine).exit_code == 0 and (mine / "model.onnx").read_text() == "my own onnx"
    assert (
        _cli("export", run, "--out", shipped, "--format", "onnx").exit_code == 0 and (shipped / "model.onnx").exists()
    )
    assert _cli("export", run, "--out", shipped).exit_code == 0 and not (shipped / "model.onnx").exists()
    line = _one_line(_cli("export", run, "--out", UNWRITABLE))
    assert line.startswith(f"error: --out {UNWRITABLE}: cannot write there (")


def test_lut_out_on_a_file_that_is_no_table_names_out_and_keeps_the_file(tmp_path):
    notes = tmp_path / "notes.json"
    notes.write_text("my notes, not JSON\n")
    refused = _cli("lut", "--space", "dsd-tiny", "--device", "cpu", "--out", notes)
    line = _one_line(refused)
    assert refused.stdout == ""  # not even the blank line a progress bar stopped before it started leaves
    assert line.startswith(f"error: --out: {notes}") and "--latency-lut" not in line
    assert line.endswith("pass another --out (an existing table is extended, nothing else is overwritten)")
    other = tmp_path / "other.json"
    other.write_text('{"format": 9}')
    line = _one_line(_cli("lut", "--space", "dsd-tiny", "--device", "cpu", "--out", other))
    assert line.startswith(f"error: --out {other} is not a dsdnas latency table (format 1); pass another --out")
    assert notes.read_text() == "my notes, not JSON\n" and other.read_text() == '{"format": 9}'


def test_a_full_disk_under_out_is_the_machines_failure_not_the_options():
    from dsdnas.api._checks import writing_out
    from dsdnas.errors import ResourceError

    def raised(out: str, error: OSError) -> Exception:
        with pytest.raises(Exception) as caught, writing_out(out):
            raise error
        return caught.value

    full = raised("shipped", OSError(errno.ENOSPC, "No space left on device", "shipped/.export-1"))
    assert isinstance(full, ResourceError) and str(full).startswith("disk full writing shipped")
    refused = raised("/proc/x", OSError(errno.ENOENT, "No such file or directory", "/proc/.export-1"))
    assert type(refused) is DsdnasError
    assert str(refused) == "--out /proc/x: cannot write there (No such file or directory); pass a path you can write to"
