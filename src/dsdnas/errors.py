"""Exception types that the CLI turns into one-line messages.

Every error a user can cause (a bad file, option or value) is a `DsdnasError`: its
message names the culprit and says what to do, so no traceback is needed.
"""


class DsdnasError(Exception):
    """Base class for errors caused by user input or missing resources."""


class SpecError(DsdnasError):
    """An architecture description (JSON, dict or notation) is invalid."""


class SearchSpaceError(DsdnasError):
    """A search space file or name is invalid, or admits no candidate."""


class DataError(DsdnasError):
    """A dataset cannot be found, read or split."""


class RunError(DsdnasError):
    """A run directory, study or trial is missing or inconsistent."""


class ExportError(DsdnasError):
    """An export could not be written or failed its parity check."""


class StorageError(RunError):
    """The Optuna storage cannot be opened, read or written."""


class ResourceError(DsdnasError):
    """The machine lacks what a command needs: disk space or memory."""


def disk_full_message(path: object, needed_bytes: int | None = None) -> str:
    """One line for a full disk: the path, the space needed and the space free there."""
    import shutil
    from pathlib import Path

    folder = Path(str(path))
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = f"{shutil.disk_usage(folder).free / 2**20:.1f} MB free there"
    except OSError:
        free = "free space unknown"
    need = f"about {needed_bytes / 2**20:.1f} MB" if needed_bytes else "more space"
    return (
        f"disk full writing {path}: it needs {need} ({free}); free some space and rerun the same command, "
        f"finished trials are kept"
    )
