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
