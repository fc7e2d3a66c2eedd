"""The CLI's last line of defence: every failure is one line on stderr and the README's exit code.

Bad input exits 2, a failure of the machine (a full disk, too little memory, anything
unexpected) exits 1, Ctrl-C 130; no traceback unless DSDNAS_DEBUG=1 asks for one.
"""

import dataclasses
import errno
import subprocess
import sys

import pytest
import typer

from dsdnas.cli._common import (
    accuracy_cell,
    config_from,
    describe_os_error,
    handle_errors,
    human,
    latency_cell,
    masked,
    percent,
)
from dsdnas.errors import DataError, ResourceError, RunError
from tests.support import stderr_apart_runner

FAILURES = [
    (DataError("folder:/x: no such directory"), 2, "error: folder:/x: no such directory"),
    (RunError("study.db is empty"), 2, "error: study.db is empty"),
    (ResourceError("needs about 9 GB, but /tmp has 1 GB free"), 1, "error: needs about 9 GB, but /tmp has 1 GB free"),
    (
        OSError(errno.ENOSPC, "No space left on device", "/run/study.db"),
        1,
        "error: disk full writing /run/study.db; free some space and rerun the same command, finished trials are kept",
    ),
    (OSError(errno.EROFS, "Read-only file system", "/ro/run"), 1, "error: Read-only file system: /ro/run"),
    # A broken pipe that is not standard output's (a worker's, a server's) is a failure like any other.
    (BrokenPipeError(errno.EPIPE, "Broken pipe"), 1, "error: Broken pipe"),
    (MemoryError(), 1, "error: out of memory; pass a smaller --batch-size or --image-size"),
    (
        KeyboardInterrupt(),
        130,
        "interrupted: what had finished is kept; rerun the same command to go on (a single fine-tune: add --resume)",
    ),
    (ZeroDivisionError("division by zero\nsecond line"), 1, "error: unexpected ZeroDivisionError: division by zero "),
]


def _failing_app(error: BaseException) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    @handle_errors
    def command() -> None:
        raise error

    return app


@pytest.mark.parametrize(("error", "code", "line"), FAILURES, ids=lambda value: type(value).__name__)
def test_each_failure_is_one_line_on_stderr_with_its_exit_code(error, code, line, monkeypatch):
    monkeypatch.delenv("DSDNAS_DEBUG", raising=False)
    result = stderr_apart_runner().invoke(_failing_app(error), [])
    assert result.exit_code == code
    assert result.stdout == ""
    assert result.stderr.startswith(line) and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_an_unexpected_error_says_how_to_see_where_and_debug_shows_it(monkeypatch):
    error = ZeroDivisionError("division by zero")
    result = stderr_apart_runner().invoke(_failing_app(error), [])
    assert result.stderr.strip().endswith("(DSDNAS_DEBUG=1 shows where)")
    monkeypatch.setenv("DSDNAS_DEBUG", "1")
    result = stderr_apart_runner().invoke(_failing_app(error), [])
    assert result.exception is error  # raised, so Python prints the traceback


def test_a_long_unexpected_message_is_cut_to_300_characters(monkeypatch):
    monkeypatch.delenv("DSDNAS_DEBUG", raising=False)
    result = stderr_apart_runner().invoke(_failing_app(ValueError("x" * 1000)), [])
    assert "x" * 300 in result.stderr and "x" * 301 not in result.stderr


def test_a_success_and_a_deliberate_exit_pass_through():
    app = typer.Typer()

    @app.command()
    @handle_errors
    def command(code: int = 0) -> None:
        if code:
            raise typer.Exit(code)
        typer.echo("done")

    assert stderr_apart_runner().invoke(app, []).stdout == "done\n"
    assert stderr_apart_runner().invoke(app, ["--code", "3"]).exit_code == 3


def test_os_errors_in_words():
    assert describe_os_error(OSError(errno.EDQUOT, "Disk quota exceeded", "/q")).startswith("disk full writing /q;")
    assert describe_os_error(OSError(errno.ENOSPC, "No space left on device")).startswith("disk full writing;")
    assert describe_os_error(OSError(errno.ENOENT, "No such file or directory")) == "No such file or directory"
    assert describe_os_error(OSError("plain")) == "plain"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (None, "", "-"),
        (float("nan"), "", "-"),
        (999, "", "999"),
        (1000, "", "1k"),
        (1234567, "", "1.23M"),
        (2.5e9, "B", "2.5GB"),
        (-4200, "", "-4.2k"),
        (0.000123, "", "0.000123"),
    ],
)
def test_human_numbers(value, unit, text):
    assert human(value, unit) == text


def test_cells():
    assert percent(0.97251) == "97.25%" and percent(None) == "-" and percent(float("nan")) == "-"
    row = {"accuracy": 0.9725, "accuracy_low": 0.952, "accuracy_high": 0.985}
    assert accuracy_cell(row) == "97.25% [95.2, 98.5]"
    assert accuracy_cell({"accuracy": 0.5, "accuracy_low": float("nan"), "accuracy_high": 0.6}) == "50.00%"
    assert accuracy_cell({"accuracy": 0.5}) == "50.00%"
    assert latency_cell({"latency_ms": 0.4123}) == "0.412 ms"
    assert latency_cell({"latency_ms": 0.4123, "latency_noisy": True}) == "0.412 ms noisy"
    assert latency_cell({"latency_ms": 0.4123, "latency_noisy": "yes"}) == "0.412 ms"
    assert latency_cell({"latency_ms": float("nan")}) == "-" and latency_cell({}) == "-"


def test_masked_storage_urls():
    assert masked("postgresql://user:***@host/db")
    assert not masked("postgresql://host/db") and not masked(None) and not masked("")


def test_more_os_errors_and_numbers_in_words():
    unnamed = OSError()
    unnamed.filename = "/run/x"  # an error with a path but no description
    assert describe_os_error(unnamed) == "OSError: /run/x"
    assert (human(5), human(1e9), human(1e6), human(1e3)) == ("5", "1G", "1M", "1k")
    assert accuracy_cell({"accuracy": 0.5, "accuracy_low": 0.4}) == "50.00%"  # half an interval is none


def test_a_commands_config_is_built_from_its_options_by_field_name():
    @dataclasses.dataclass
    class Options:
        budget: str
        epochs: int

    assert config_from(Options, {"epochs": 3, "budget": "50", "quiet": True}) == Options(budget="50", epochs=3)


def test_a_reader_that_stops_reading_ends_the_command_as_sigpipe_ends_a_tool_quietly():
    """`dsdnas spaces | head -1`: the shell's 141, as for `seq` or `cat`, not 1 (a machine failure), no message."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dsdnas", "spaces"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    process.stdout.close()  # before the first line is printed: the interpreter is still starting
    assert process.wait(timeout=120) == 141
    assert process.stderr.read() == b""
