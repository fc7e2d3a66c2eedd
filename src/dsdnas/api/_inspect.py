"""Looking without searching: a run's trials, one architecture's costs, blocks side by side, spaces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from dsdnas.api._runs import load_run
from dsdnas.errors import DsdnasError
from dsdnas.nas.hardware import resolve_device
from dsdnas.nas.model import costs
from dsdnas.nas.model.arch import Arch, load_arch
from dsdnas.nas.search.results import trials_frame
from dsdnas.search_spaces import SearchSpace, get_space, list_spaces


def trials(run: str | Path, /, *, storage: str | None = None, pareto: bool = False) -> tuple[str, pd.DataFrame]:
    """The study's name and its trials (only the Pareto front with `pareto`), as trials.csv holds them."""
    opened = load_run(run, storage)
    frame = trials_frame(opened.study)
    return opened.study.study_name, frame[frame["pareto"]] if pareto else frame


def profile(
    arch_file: str | Path, /, *, device: str = "auto", batch_size: int = 64, repeats: int = 30
) -> tuple[Arch, dict[str, Any]]:
    """An architecture file and its costs: MACs, params, receptive field, latency at batch 1 and `batch_size`."""
    if batch_size < 1 or repeats < 1:
        raise DsdnasError(f"--batch-size {batch_size} and --repeats {repeats} must be at least 1")
    arch = load_arch(str(arch_file))
    return arch, costs.profile_arch(arch, resolve_device(device), batch_size, repeats)


def compare_blocks(
    *, in_channels: int, out_channels: int, kernel: int, dilation: int, size: int, device: str = "auto"
) -> list[costs.BlockComparison]:
    """One block as standard, dilated, separable and dilated separable, measured side by side."""
    if kernel < 1 or kernel % 2 == 0:
        raise DsdnasError(f"--kernel {kernel}: kernels must be odd (1, 3, 5, 7, ...)")
    if min(in_channels, out_channels, dilation, size) < 1:
        raise DsdnasError("--in, --out, --dilation and --size must be positive")
    return costs.compare_blocks(in_channels, out_channels, kernel, dilation, size, resolve_device(device))


def spaces(names: list[str] | None, input_size: int) -> list[SearchSpace]:
    """The named spaces (default: the built-ins), each checked to admit a candidate for the input."""
    if input_size < 1:
        raise DsdnasError(f"--input-size {input_size} must be at least 1")
    chosen = [get_space(name) for name in names] if names else list_spaces()
    for space in chosen:
        space.check_feasible((1, input_size, input_size))
    return chosen
