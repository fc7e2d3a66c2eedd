"""Range checks of the commands' options: each failure a one-line error that names the option."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from dsdnas.errors import DsdnasError, ResourceError, disk_full_message


def check(condition: bool, message: str) -> None:
    if not condition:
        raise DsdnasError(message)


def check_positive(option: str, value: float | None) -> None:
    check(value is None or (isinstance(value, (int, float)) and value > 0), f"{option} {value} must be positive")


def check_fraction(option: str, value: float, low_open: bool = True) -> None:
    inside = 0 < value < 1 if low_open else 0 <= value < 1
    check(isinstance(value, (int, float)) and inside, f"{option} {value} must be in {'(0' if low_open else '[0'}, 1)")


def check_out(out: str | Path | None) -> None:
    check(out is None or not Path(out).exists() or Path(out).is_dir(), f"--out {out} is a file; pass a folder")


def check_out_file(out: str | Path | None, example: str) -> None:
    """An --out that names a file: an existing folder is refused (writing it would fail on a temporary name)."""
    if out is not None and Path(out).is_dir():
        raise DsdnasError(f"--out {out} is a folder; pass a file name, such as {Path(out) / example}")


@contextlib.contextmanager
def writing_out(out: str | Path | None) -> Iterator[None]:
    """An OSError writing a given --out as one line naming it, not a temporary file (exit 2); without --out,
    the run's own folder, it stays a failure of the machine. A full disk is always the machine's (exit 1)."""
    from dsdnas.nas.files import DISK_FULL

    try:
        yield
    except OSError as error:
        if out is None:
            raise
        if error.errno in DISK_FULL:
            raise ResourceError(disk_full_message(out)) from None
        raise DsdnasError(
            f"--out {out}: cannot write there ({error.strerror or error}); pass a path you can write to"
        ) from None


def check_latency(runtime: str, lut: str | Path | None, threads: int | None = None) -> None:
    from dsdnas.nas.hardware import cpu_count
    from dsdnas.nas.lut import load_table
    from dsdnas.nas.model.runtimes import check_runtime

    check_runtime(runtime)
    cores = cpu_count()
    check(
        threads is None or 1 <= threads <= cores,
        f"--latency-threads {threads} must be from 1 to this machine's {cores} CPU threads",
    )
    table = load_table(lut) if lut is not None else None
    check(
        table is None or runtime in ("torch", table.runtime),
        f"--latency-runtime {runtime}: the table {lut} was measured in {table and table.runtime}; drop one",
    )
    check(
        table is None or threads is None,
        f"--latency-threads {threads}: the table {lut} was measured on {table and table.threads} thread(s); drop one",
    )
