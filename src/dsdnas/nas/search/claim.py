"""One worker at a time decides to start a trial: the budget check and the new trial.

Workers on this machine that share a run directory (the same command in two terminals)
take an exclusive lock on `RUN/claim.lock` from the moment they count finished and
running trials until their new trial exists in the study. So they never start more
trials than the budget leaves. Workers on other machines (a shared --storage) share no
lock: there only a race between two workers' checks can pass the budget.
"""

from __future__ import annotations

from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; workers there rely on the recount alone
    fcntl = None


class ClaimLock:
    """An exclusive advisory lock on a file; `release` may be called more than once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(self.path, "a")  # noqa: SIM115 - held across calls, closed in release
        if fcntl is not None:
            fcntl.flock(self._handle, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._handle is None:
            return
        if fcntl is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()
        self._handle = None
