"""Quiet windows: on one machine, no dsdnas process trains while another measures latency.

Every trainer holds a shared lock on the device's lock file in short chunks (about half
a second of training each); a latency measurement holds it exclusively. A second file,
the gate, lets a waiting measurement stop new chunks from starting, so it waits at most
one chunk. The files live in the user's cache directory, keyed by device (cpu, cuda0),
so separate runs, terminals and `--jobs` workers all share them. With DSDNAS_LOCK_LOG
set, every window is appended to that file as one JSON line, which is how the tests
prove that measuring and training never overlap.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

from dsdnas.nas.files import cache_dir

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so no coordination between processes
    fcntl = None

CHUNK_S = 0.5  # training seconds between chances for a waiting measurement


def device_key(device: object) -> str:
    """cpu, cuda0, mps: a file-safe name for a device."""
    text = str(device)
    return text.replace(":", "") if ":" in text else f"{text}0" if text == "cuda" else text


class QuietWindows:
    """The shared (training) and exclusive (measuring) locks of one device."""

    def __init__(self, device: object, folder: Path | None = None) -> None:
        folder = folder or cache_dir() / "locks"
        key = device_key(device)
        self.gate_path, self.lock_path = folder / f"{key}.gate", folder / f"{key}.lock"
        self.log_path = Path(os.environ["DSDNAS_LOCK_LOG"]) if os.environ.get("DSDNAS_LOCK_LOG") else None
        self._usable = fcntl is not None and self._prepare(folder)

    def _prepare(self, folder: Path) -> bool:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for path in (self.gate_path, self.lock_path):
                path.touch(exist_ok=True)
        except OSError:
            return False  # an unwritable cache: no coordination, and the noise check still flags contention
        return True

    @contextlib.contextmanager
    def measuring(self) -> Iterator[None]:
        """Exclusive: new training chunks wait at the gate, running ones finish theirs first."""
        gate, lock = self._locked(self.gate_path, exclusive=True), self._locked(self.lock_path, exclusive=True)
        with gate, lock, self._logged("measure"):
            yield

    @contextlib.contextmanager
    def training(self) -> Iterator[None]:
        """Shared with other trainers; waits while a measurement holds or waits for the lock."""
        with contextlib.ExitStack() as stack:
            with self._locked(self.gate_path, exclusive=False):
                stack.enter_context(self._locked(self.lock_path, exclusive=False))
            with self._logged("train"):
                yield

    @contextlib.contextmanager
    def _locked(self, path: Path, exclusive: bool) -> Iterator[None]:
        if not self._usable:
            yield
            return
        with open(path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def _logged(self, kind: str) -> Iterator[None]:
        start = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process on the machine
        try:
            yield
        finally:
            if self.log_path is not None:
                line = json.dumps({"pid": os.getpid(), "kind": kind, "start": start, "end": time.monotonic()})
                with open(self.log_path, "a", encoding="utf-8") as log:
                    log.write(line + "\n")
