"""A latency lookup table (lut.json): per-layer latencies measured once on a target device, summed per candidate.

FBNet's answer to "latency differs across devices": time every distinct layer a space can
contain on the device and in the runtime the model will ship to, then predict a
candidate's latency anywhere as the sum of its layers' entries. Three constants make the
sum a whole model's latency:

    predicted = sum(layer entries) - (layers - 1) * call_ms - handed * element_ns + model_ms

`call_ms` is what each layer timed alone pays more than it does inside a whole model (a
call of the runtime, and in ONNX Runtime what its own session costs beyond that: on the
2-core VM 1.4-2x an identity's call); `element_ns` what it pays more for each element of
the activation it takes from another convolutional layer (`handed`, `layers.handoff_elements`:
ONNX Runtime reorders a layer's input and output into and out of its blocked layout, a
whole model once); `model_ms` is the network's own glue (its Sequential, the flatten,
cache effects between layers). All are fitted to a few candidates timed whole when the
table is made (`_fit.fit_constants`). The table's error before and after these
corrections is kept in it (`calibration`, with each candidate), and `dsdnas lut --check`
adds the error over candidates it never saw (`check`). A table made before `element_ns`
existed predicts without it (0), as it did.
"""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dsdnas.errors import DsdnasError, RunError
from dsdnas.nas.files import read_json, write_json
from dsdnas.nas.model.arch import Arch
from dsdnas.nas.model.layers import arch_layers, handoff_elements
from dsdnas.nas.model.runtimes import UnsupportedModel

FORMAT = 1
# What the table was measured on: a table made for other facts cannot be extended or used for them.
IDENTITY = ("device", "runtime", "threads", "input_shape", "num_classes")
# Over this share of layers left noisy, `dsdnas lut` says why and what to do: 149-211 of 1,481 (10-14%) in ONNX Runtime
# on every core of a 2-core VM, 2 (0.1%) on one thread, 32-45 (2-3%) in torch (docs/benchmarks.md, latency tables).
NOISY_SHARE = 0.05


class LutError(DsdnasError):
    """A latency table cannot be read, lacks a layer, or was made for another input or runtime."""


def corrected_ms(
    sum_ms: float, layers: int, *, call_ms: float, model_ms: float, handed: int, element_ns: float
) -> float:
    """A whole model's latency from its layers' entries: each of the layers - 1 boundaries less, and each of the
    `handed` activation elements, the glue more."""
    return max(0.0, sum_ms - (layers - 1) * call_ms - handed * element_ns * 1e-6 + model_ms)


@dataclass
class LatencyTable:
    """lut.json in memory: where it was measured, the constants, and key -> entry."""

    device: str  # cpu, cuda:0
    runtime: str  # runtimes.RUNTIMES
    threads: int
    input_shape: tuple[int, int, int]
    num_classes: int
    machine: dict[str, Any] = field(default_factory=dict)  # host, CPU model, versions (hardware.machine_info)
    versions: dict[str, str] = field(default_factory=dict)  # of the runtime's packages
    spaces: list[str] = field(default_factory=list)
    layers: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> {"ms", "p90_ms", "noisy"}
    call_ms: float | None = None
    model_ms: float | None = None
    element_ns: float | None = None  # None: a table from before it was fitted (predicts with 0)
    calibration: dict[str, Any] = field(default_factory=dict)  # error of the plain and the corrected sum
    check: dict[str, Any] = field(default_factory=dict)  # `dsdnas lut --check`: candidates timed whole
    source: str = "lut.json"  # the file it was read from

    @property
    def target(self) -> str:
        """The device the table is for: "HOST cpu, torch 2 threads"."""
        return f"{self.machine.get('host', '?')} {self.device}, {self.runtime} {self.threads} threads"

    @property
    def label(self) -> str:
        """How trials.csv and a report name its figures: "predicted for HOST cpu, torch 2 threads (lut.json)"."""
        return f"predicted for {self.target} ({Path(self.source).name})"

    @property
    def noisy(self) -> int:
        """How many layers stayed unstable after every try (`latency.Latency.noisy`): timed on a busy machine."""
        return sum(bool(entry.get("noisy")) for entry in self.layers.values())

    @property
    def too_noisy(self) -> bool:
        """More than NOISY_SHARE of its timed layers stayed noisy: worth saying why and what to do."""
        timed = sum(entry.get("ms") is not None for entry in self.layers.values())  # not those it cannot run
        return self.noisy > NOISY_SHARE * timed

    @property
    def ready(self) -> bool:
        return self.call_ms is not None and self.model_ms is not None

    def unsupported(self, arch: Arch) -> str:
        """Why the table's runtime cannot run the candidate ('' when it can): a layer it could not time."""
        for layer in arch_layers(arch):
            reason = self.layers.get(layer.key, {}).get("unsupported")
            if reason:
                return f"layer {layer.key}: {reason}"
        return ""

    def command(self, space: str) -> str:
        """The `dsdnas lut` command that adds `space`'s layers to this table, on the device that made it."""
        shape = "x".join(map(str, self.input_shape))
        return (
            f"dsdnas lut --space {shlex.quote(space)} --input {shape} --classes {self.num_classes} "
            f"--runtime {self.runtime} --threads {self.threads} --device {self.device} --out {shlex.quote(self.source)}"
        )

    def missing(self, arch: Arch) -> list[str]:
        return [layer.key for layer in arch_layers(arch) if layer.key not in self.layers]

    def layer_sum_ms(self, arch: Arch) -> tuple[float, int]:
        """The plain sum of the candidate's layer entries, and how many layers it has."""
        missing = self.missing(arch)
        if missing:
            raise LutError(
                f"{self.source} has no entry for layer {missing[0]} (of {arch.notation}); add it on the table's "
                f"device, SPACE being the space this candidate comes from: {self.command('SPACE')}"
            )
        reason = self.unsupported(arch)
        if reason:
            raise UnsupportedModel(f"{arch.notation}: {reason}")
        keys = [layer.key for layer in arch_layers(arch)]
        return sum(self.layers[key]["ms"] for key in keys), len(keys)

    def predict_ms(self, arch: Arch) -> float:
        """The candidate's predicted batch-1 latency in milliseconds."""
        if not self.ready:
            raise LutError(f"{self.source} is unfinished: rerun the dsdnas lut command that made it to complete it")
        return corrected_ms(
            *self.layer_sum_ms(arch),
            call_ms=self.call_ms,
            model_ms=self.model_ms,
            handed=handoff_elements(arch),
            element_ns=self.element_ns or 0.0,
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["source"]
        data["input_shape"] = list(self.input_shape)
        return {"format": FORMAT, **data}

    def save(self, path: str | Path) -> Path:
        return write_json(path, self.to_dict())


def load_table(path: str | Path, option: str = "--latency-lut") -> LatencyTable:
    """Read lut.json; a missing, invalid or foreign file is a one-line error naming it and the `option` it came from.

    From `dsdnas lut --out`, a file that is no table is never overwritten: the error says to pass another.
    """
    advice = ""
    if option == "--out":
        advice = "; pass another --out (an existing table is extended, nothing else is overwritten)"
    try:
        data = read_json(path)
    except RunError as error:
        raise LutError(f"{option}: {error}{advice}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise LutError(
            f"{option} {path} is not a dsdnas latency table (format {FORMAT}){advice or '; make one with dsdnas lut'}"
        )
    try:
        fields = {key: value for key, value in data.items() if key != "format"}
        table = LatencyTable(**fields, source=str(path))
        table.input_shape = tuple(int(side) for side in table.input_shape)
    except (TypeError, ValueError) as error:
        raise LutError(f"{option} {path} is not a dsdnas latency table: {error}{advice}") from None
    return table


def check_identity(table: LatencyTable, wanted: dict[str, Any]) -> None:
    """Refuse to use or extend a table measured for other facts, naming the first that differs."""
    for name in IDENTITY:
        have, want = getattr(table, name), wanted[name]
        if name == "input_shape":
            have, want = list(have), list(want)
        if have != want:
            raise LutError(
                f"{table.source} was measured with {name} {have}, not {want}: pass another --out, or the same {name}"
            )
