"""What a running search tells whoever watches it: subclass `SearchObserver` and pass it to `search`.

Light to import (no torch), so the CLI's live view can subclass it at start-up.
"""

from dsdnas.nas.search.events import RunningTrial, SearchObserver
from dsdnas.nas.training.stats import EpochStats

__all__ = ["EpochStats", "RunningTrial", "SearchObserver"]
