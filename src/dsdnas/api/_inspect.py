"""Looking without searching: a run's trials, one architecture's costs, blocks side by side, spaces."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from dsdnas.api._checks import check_latency
from dsdnas.api._runs import load_run
from dsdnas.errors import DsdnasError
from dsdnas.nas.hardware import resolve_device
from dsdnas.nas.model import block_costs, costs
from dsdnas.nas.model.arch import Arch, load_arch
from dsdnas.nas.model.runtimes import DEFAULT_RUNTIME
from dsdnas.nas.search.end_latency import end_latencies, with_end_latency
from dsdnas.nas.search.records import OBJECTIVE_FIELDS, objective_names
from dsdnas.nas.search.results import pareto_trials, trials_frame
from dsdnas.reports import compare, finetuned_accuracies, load_baselines
from dsdnas.search_spaces import get_space, list_spaces


def trials(run: str | Path, /, *, storage: str | None = None, pareto: bool = False) -> tuple[str, pd.DataFrame]:
    """The study's name and its trials as trials.csv holds them, with each fine-tuned test accuracy
    (`test_accuracy`, `test_low`, `test_high`); with `pareto`, only the front, sorted by its first cost."""
    opened = load_run(run, storage)
    frame = trials_frame(opened.study, timed=end_latencies(opened.run_dir))
    tuned = finetuned_accuracies(opened.run_dir.root)
    for column, key in (("test_accuracy", "accuracy"), ("test_low", "low"), ("test_high", "high")):
        frame[column] = [tuned.get(number, {}).get(key) for number in frame["trial"]]
    if not pareto:
        return opened.study.study_name, frame
    cost = OBJECTIVE_FIELDS[objective_names(opened.study)[1]]
    return opened.study.study_name, frame[frame["pareto"]].sort_values([cost, "trial"])


def against_baselines(run: str | Path, /, *, storage: str | None = None) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The run's reference models and, for each, the cheapest front candidate matching its accuracy."""
    opened = load_run(run, storage)
    baselines = load_baselines(opened.run_dir.root)
    finetuned = finetuned_accuracies(opened.run_dir.root)
    timed = end_latencies(opened.run_dir)
    front = [with_end_latency(record, timed) for record in pareto_trials(opened.study)]
    return baselines, compare(front, baselines, finetuned)


def profile(
    arch_file: str | Path,
    /,
    *,
    device: str = "auto",
    batch_size: int = 64,
    repeats: int = 30,
    latency_runtime: str = DEFAULT_RUNTIME,
    latency_threads: int | None = None,
) -> tuple[Arch, dict[str, Any]]:
    """An architecture file and its costs: MACs, params, receptive field, latency in `latency_runtime` on
    `latency_threads` CPU threads (None: all) at batch 1 and `batch_size`."""
    if batch_size < 1 or repeats < 1:
        raise DsdnasError(f"--batch-size {batch_size} and --repeats {repeats} must be at least 1")
    check_latency(latency_runtime, None, latency_threads)
    arch = load_arch(str(arch_file))
    timing = {"runtime": latency_runtime, "threads": latency_threads}
    found = costs.profile_arch(arch, resolve_device(device), batch_size=batch_size, repeats=repeats, **timing)
    return arch, found


def compare_blocks(
    *, in_channels: int, out_channels: int, kernel: int, dilation: int, size: int, device: str = "auto"
) -> list[block_costs.BlockComparison]:
    """One block as standard, dilated, separable and dilated separable, measured side by side."""
    if kernel < 1 or kernel % 2 == 0:
        raise DsdnasError(f"--kernel {kernel}: kernels must be odd (1, 3, 5, 7, ...)")
    if min(in_channels, out_channels, dilation, size) < 1:
        raise DsdnasError("--in, --out, --dilation and --size must be positive")
    return block_costs.compare_blocks(
        in_channels, out_channels, kernel, dilation=dilation, size=size, device=resolve_device(device)
    )


def parse_shape(text: str) -> tuple[int, int, int]:
    """'1x28x28' -> (1, 28, 28)."""
    parts = text.lower().split("x")
    if len(parts) != 3 or not all(part.isdigit() and int(part) > 0 for part in parts):
        raise DsdnasError(f"--input {text!r}: give channels x height x width, e.g. 1x28x28")
    return int(parts[0]), int(parts[1]), int(parts[2])


def spaces(
    names: list[str] | None, input_shape: str = "1x28x28", classes: int = 10
) -> tuple[tuple[int, int, int], list[tuple[dict[str, Any], dict[str, Any]]]]:
    """The named spaces (default: the built-ins) for an input: size, exact cost range, and choices."""
    shape = parse_shape(input_shape)
    if classes < 2:
        raise DsdnasError(f"--classes {classes} must be at least 2")
    chosen = [get_space(name) for name in names] if names else list_spaces()
    rows = []
    for space in chosen:
        space.check_feasible(shape)
        bounds = space.cost_bounds(shape, classes)
        row = {
            "name": space.name,
            "description": space.description,
            "size": space.size(shape),
            "exact": space.size_is_exact,
            **asdict(bounds),
            "choices": space.describe(),
        }
        rows.append((row, space.describe()))
    return shape, rows
