"""Shared CLI plumbing: one-line errors, the console, configs from options, number formatting."""

from __future__ import annotations

import dataclasses
import errno
import functools
import os
import select
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from dsdnas.errors import DsdnasError, ResourceError
from dsdnas.interrupts import catching_interrupts

EXIT_USER_ERROR = 2
# A reader that stopped reading (`dsdnas trials RUN | head`): the shell's code for a tool that SIGPIPE ended,
# as `seq`, `git log` or `cat` give, and no message. Neither the input's fault nor the machine's (exit 1).
EXIT_BROKEN_PIPE = 141


def _stdout_gone() -> bool:
    """Whether standard output is a pipe whose reader has gone (poll reports an error on it)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & select.POLLERR for _, event in poller.poll(0))
    except (OSError, ValueError, AttributeError):  # no file descriptor (a test's runner), or no poll
        return False


def _stop_on_broken_pipe() -> None:
    """Output goes nowhere from now on (Python's flush at exit would fail again), and the command ends."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(EXIT_BROKEN_PIPE)


class _Console(Console):
    def on_broken_pipe(self) -> None:  # rich's own would exit 1
        self.quiet = True
        _stop_on_broken_pipe()


console = _Console(highlight=False)
Config = TypeVar("Config")


def config_from(cls: type[Config], options: dict[str, Any]) -> Config:
    """The command's config from its options: each field taken from the option of the same name."""
    return cls(**{field.name: options[field.name] for field in dataclasses.fields(cls)})


EXIT_INTERRUPTED = 130  # the shell's code for Ctrl-C
EXIT_FAILURE = 1  # the machine, not the input: a full disk, an unexpected error


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Every failure as one line on stderr and a non-zero exit code, never a traceback.

    Input errors exit 2, Ctrl-C 130, anything else 1: a full disk or too little memory
    (ResourceError) is the machine's failure, not the input's. DSDNAS_DEBUG=1 shows the
    traceback of an unexpected error.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with catching_interrupts():  # a Ctrl-C that a finalizer swallowed still ends the command with 130
                return command(*args, **kwargs)
        except ResourceError as error:  # the machine lacks disk or memory: not the input's fault
            _fail(f"error: {error}", EXIT_FAILURE)
        except DsdnasError as error:
            _fail(f"error: {error}", EXIT_USER_ERROR)
        except KeyboardInterrupt:
            _fail(
                "interrupted: what had finished is kept; rerun the same command to go on "
                "(a single fine-tune: add --resume)",
                EXIT_INTERRUPTED,
            )
        except typer.Exit:
            raise
        except (OSError, MemoryError) as error:
            if isinstance(error, BrokenPipeError) and _stdout_gone():  # echoed or printed, not the console's
                _stop_on_broken_pipe()  # any other pipe (a worker's, a server's) is a failure like the rest
            _fail(f"error: {describe_os_error(error)}", EXIT_FAILURE)
        except Exception as error:  # noqa: BLE001 - the last line of defence: one line, not a traceback
            if os.environ.get("DSDNAS_DEBUG") == "1":
                raise
            first = (str(error).strip().splitlines() or [""])[0][:300]
            _fail(f"error: unexpected {type(error).__name__}: {first} (DSDNAS_DEBUG=1 shows where)", EXIT_FAILURE)

    return wrapper


def _fail(message: str, code: int) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code) from None


def describe_os_error(error: OSError | MemoryError) -> str:
    """A full disk, a read-only folder, a missing file: what and where, in one line."""
    if isinstance(error, MemoryError):
        return "out of memory; pass a smaller --batch-size or --image-size"
    where = f" {error.filename}" if error.filename else ""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"disk full writing{where}; free some space and rerun the same command, finished trials are kept"
    return f"{error.strerror or type(error).__name__}:{where}" if where else f"{error.strerror or error}"


MASKED_NOTE = "  (*** stands for the storage's password: put it back before running these)"


def masked(storage: str | None) -> bool:
    """Whether a storage URL shown to the user had its password masked."""
    from dsdnas.api import MASK  # loaded only where a command is suggested

    return bool(storage) and MASK in storage


def human(value: float | None, unit: str = "") -> str:
    """1234567 -> '1.23M'; None -> '-'."""
    if value is None or value != value:  # None or nan
        return "-"
    for threshold, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= threshold:
            return f"{value / threshold:.3g}{suffix}{unit}"
    return f"{value:.3g}{unit}"


def percent(value: float | None) -> str:
    return "-" if value is None or value != value else f"{100 * value:.2f}%"


def interactive() -> bool:
    return sys.stdout.isatty()


def accuracy_cell(row: dict[str, Any]) -> str:
    """97.25% [95.2, 98.5]: the accuracy and its 95% Wilson interval, when the split size is known."""
    low, high = row.get("accuracy_low"), row.get("accuracy_high")
    if low is None or high is None or low != low:
        return percent(row.get("accuracy"))
    return f"{percent(row.get('accuracy'))} [{100 * low:.1f}, {100 * high:.1f}]"


def latency_cell(row: dict[str, Any]) -> str:
    """0.412 ms, or 0.412 ms noisy when the machine was never quiet enough to trust it."""
    value = row.get("latency_ms")
    if value is None or value != value:
        return "-"
    return f"{value:.3f} ms" + (" noisy" if row.get("latency_noisy") is True else "")
