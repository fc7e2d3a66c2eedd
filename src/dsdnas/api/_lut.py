"""`dsdnas lut`: make (or extend, or check) a latency table of spaces' layers on this device.

Run it on the device the model will ship to; a search anywhere else then optimizes for
that device with `dsdnas search --latency-lut lut.json`. The table covers every distinct
layer of the named spaces on one input shape (`search_spaces.space_layers`); a table
that exists is extended with what it lacks, so an interrupted run goes on and one file
can serve several spaces. `check` times that many candidates whole, drawn with another
seed than the calibration ones, and keeps the error in the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsdnas.api._inspect import parse_shape
from dsdnas.errors import DsdnasError
from dsdnas.nas.hardware import cpu_count, machine_info, resolve_device
from dsdnas.nas.lut import LatencyTable, check_identity, check_table, fill_table, load_table
from dsdnas.nas.model.runtimes import DEFAULT_RUNTIME, check_runtime, runtime_versions
from dsdnas.search_spaces import DEFAULT_SPACE, SearchSpace, get_space, sample_archs, space_argument, space_layers

CALIBRATION_SEED = 1  # the candidates that set the table's constant...
CHECK_SEED = 2  # ...and those that check it: never the same draws
# For the estimate, s per layer on the 2-core VM: warm-up (0.2 s), the timed passes, and for onnxruntime an
# ONNX export and a session per layer (benchmarks/bench_lut.py: 1,481 layers in 433 s and in about 20 min).
SECONDS_PER_LAYER = {"torch": 0.3, "torchscript": 0.4, "onnxruntime": 0.8}


@dataclass(frozen=True, kw_only=True)
class LutConfig:
    """The options of `dsdnas lut`; see `dsdnas lut --help` for each one."""

    spaces: tuple[str, ...] = (DEFAULT_SPACE,)
    input_shape: str = "1x28x28"
    classes: int = 10
    runtime: str = DEFAULT_RUNTIME
    threads: int | None = None  # None: every CPU of this machine, as a candidate is timed
    device: str = "auto"
    out: str | Path = "lut.json"
    calibrate: int = 40  # candidates drawn and timed whole to fit the table's constants (those it cannot run left out)
    check: int = 0  # candidates timed whole afterwards, to measure its error

    def validate(self) -> LutConfig:
        parse_shape(self.input_shape)
        for option, value, low in (("--classes", self.classes, 2), ("--calibrate", self.calibrate, 1)):
            if value < low:
                raise DsdnasError(f"{option} {value} must be at least {low}")
        if self.check < 0 or (self.threads is not None and self.threads < 1):
            raise DsdnasError(f"--check {self.check} must be >= 0 and --threads {self.threads} at least 1")
        if not self.spaces:
            raise DsdnasError("--space: name at least one search space")
        if Path(self.out).is_dir():
            raise DsdnasError(f"--out {self.out} is a folder; give the table's file name, e.g. lut.json")
        check_runtime(self.runtime)
        for name in self.spaces:
            get_space(name)
        resolve_device(self.device)
        return self


@dataclass(frozen=True)
class LutPlan:
    """What a run of `dsdnas lut` will do, told before it starts."""

    table: LatencyTable
    todo: int  # layers to time
    known: int  # layers the table already has
    seconds: float  # an estimate


def _open(config: LutConfig) -> LatencyTable:
    device = resolve_device(config.device)
    wanted = {
        "device": str(device),
        "runtime": config.runtime,
        "threads": config.threads or cpu_count(),
        "input_shape": parse_shape(config.input_shape),
        "num_classes": config.classes,
    }
    if Path(config.out).exists():
        table = load_table(config.out, option="--out")
        check_identity(table, wanted)
        return table
    return LatencyTable(
        **wanted, machine=machine_info(device), versions=runtime_versions(config.runtime), source=str(config.out)
    )


def lut(
    config: LutConfig | None = None,
    *,
    planned: Callable[[LutPlan], None] = lambda plan: None,
    progress: Callable[[int, int, str], None] = lambda done, total, key: None,
    **options: Any,
) -> LatencyTable:
    """Make or extend the table at `config.out`; with `check`, time candidates whole against it."""
    config = (config or LutConfig(**options)).validate()
    table = _open(config)
    device = resolve_device(config.device)
    spaces = [get_space(name) for name in config.spaces]
    layers: dict = {}
    for space in spaces:
        space.check_feasible(table.input_shape)
        layers.update(space_layers(space, table.input_shape, table.num_classes))
    table.spaces = sorted({*table.spaces, *(space.name for space in spaces)})
    todo = sum(key not in table.layers for key in layers)
    seconds = SECONDS_PER_LAYER[config.runtime] * (todo + 2 * (config.calibrate + config.check))
    planned(LutPlan(table, todo=todo, known=len(layers) - todo, seconds=seconds))
    calibration = [
        arch
        for space in spaces
        for arch in sample_archs(
            space,
            table.input_shape,
            table.num_classes,
            count=-(-config.calibrate // len(spaces)),
            seed=CALIBRATION_SEED,
        )
    ]
    fill_table(table, layers, calibration, device=device, path=Path(config.out), progress=progress)
    if config.check:
        per_space = -(-config.check // len(spaces))
        archs = [  # a candidate the runtime cannot run is replaced by the next draw: N are timed
            arch
            for space in spaces
            for arch in sample_archs(
                space,
                table.input_shape,
                table.num_classes,
                count=per_space,
                seed=CHECK_SEED,
                keep=lambda arch: not table.unsupported(arch),
            )
        ][: config.check]
        check_table(table, archs, device=device, progress=progress)
        table.save(config.out)
    return table


def check_covers(
    table: LatencyTable, space: SearchSpace, *, input_shape: tuple[int, int, int], num_classes: int
) -> None:
    """Refuse, before a search starts, a table that lacks a layer of the space or was made for other input."""
    if tuple(table.input_shape) != tuple(input_shape) or table.num_classes != num_classes:
        raise DsdnasError(
            f"--latency-lut {table.source} was measured on {'x'.join(map(str, table.input_shape))} input with "
            f"{table.num_classes} classes; this search has {'x'.join(map(str, input_shape))} and {num_classes}"
        )
    layers = space_layers(space, tuple(input_shape), num_classes)
    space_name = space_argument(space)
    missing = [key for key in layers if key not in table.layers]
    if missing or not table.ready:
        raise DsdnasError(
            f"--latency-lut {table.source} lacks {len(missing)} layer(s) of {space_name} (e.g. "
            f"{missing[0] if missing else 'its constants'}); on its device run: {table.command(space_name)}"
        )
