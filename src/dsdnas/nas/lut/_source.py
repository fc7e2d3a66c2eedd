"""Where a search's latencies come from: timed here in a runtime, or predicted by a table made elsewhere."""

from __future__ import annotations

from dataclasses import dataclass

from dsdnas.nas.hardware import cpu_count
from dsdnas.nas.lut._table import LatencyTable
from dsdnas.nas.model.arch import Arch
from dsdnas.nas.model.latency import Latency
from dsdnas.nas.model.runtimes import DEFAULT_RUNTIME


@dataclass(frozen=True)
class LatencySource:
    """--latency-runtime and --latency-threads, or --latency-lut (whose runtime and threads are the table's)."""

    runtime: str = DEFAULT_RUNTIME  # runtimes.RUNTIMES
    table: LatencyTable | None = None
    threads: int | None = None  # CPU threads a candidate is timed on; None: all of this machine's

    @property
    def timing_threads(self) -> int:
        return self.threads or cpu_count()

    @property
    def label(self) -> str:
        """What trials.csv and the report say of each figure: "torch", "onnxruntime", "predicted for ..."."""
        return self.table.label if self.table is not None else self.runtime

    @property
    def setting(self) -> str:
        """What a study must keep: the runtime (and a thread count given), or the table's target (not its file
        name). A study made before --latency-threads keeps "torch": every core, as then."""
        if self.table is not None:
            return f"lut: {self.table.target}"
        return self.runtime if self.threads is None else f"{self.runtime} on {self.threads} thread(s)"

    def predicted(self, arch: Arch) -> Latency | None:
        """The table's prediction in the shape of a measurement (one figure, never noisy); None without a table."""
        table = self.table
        if table is None:
            return None
        ms = table.predict_ms(arch)
        return Latency(
            1, ms, ms, ms, (ms,), 0, 0, table.device, table.threads, None, None, 0, False, runtime=table.runtime
        )
