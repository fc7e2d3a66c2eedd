"""What a model costs: MACs and parameters counted, latency measured.

MACs come from fvcore, whose "flop" is one multiply-add. We count the multiply-adds of
conv and linear layers, the convention of the NAS literature: BatchNorm (folded into the
conv at inference), activations, residual adds and pooling are left out, so the figure
equals the analytic count.

`profile_costs` is what a search records for every candidate; `profile_arch` is what
`dsdnas profile` prints (`block_costs` compares blocks for `dsdnas blocks`).

This is the only module that imports fvcore.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from dsdnas.nas.hardware import cpu_count
from dsdnas.nas.model.arch import Arch
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.latency import Latency, measure_latency
from dsdnas.nas.model.runtimes import DEFAULT_RUNTIME
from dsdnas.nas.quiet import QuietWindows

with warnings.catch_warnings():  # fvcore scripts a helper with torch.jit at import time
    warnings.simplefilter("ignore", FutureWarning)
    from fvcore.nn import FlopCountAnalysis

# fvcore's per-operator keys that are multiply-adds of conv and linear layers; it also
# counts batch_norm and pooling, which we leave out.
_MAC_OPERATORS = ("conv", "linear", "matmul", "addmm", "bmm", "einsum")
# Ops without an fvcore handle that cost no multiply-adds: residual adds and the
# activations fvcore does not know (relu6 traces as hardtanh).
_FREE_OPS = frozenset(
    f"aten::{name}{suffix}" for name in ("add", "hardswish", "silu", "gelu", "hardtanh") for suffix in ("", "_")
)
LATENCY_WARMUP = 10  # untimed forward passes before timing
LATENCY_REPEATS = 50  # timed forward passes at least, in 5 rounds; the median pass at full speed is reported


@dataclass(frozen=True)
class MacCount:
    """Multiply-adds for one input sample, and the ops fvcore could not count."""

    macs: int
    unsupported_ops: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Costs:
    """What a search records of a candidate before training it (the latency fields are None when its timing
    waits until it has trained: see `profile_costs`)."""

    macs: int
    params: int
    receptive_field: int  # px of input one output of the last conv sees
    latency_ms: float | None  # batch 1: the median pass at full speed (figure.figure_ms)
    latency_p10_ms: float | None  # spread of all timed passes
    latency_p90_ms: float | None
    latency_noisy: bool | None  # still unstable after retries: flagged, never mixed in silently
    latency_reason: str  # why it was unstable
    latency_load: float | None  # system load average when measured
    threads: int | None  # CPU threads in use while timing
    unsupported_ops: dict[str, int]
    profile_s: float  # time spent measuring all of this
    latency_source: str = DEFAULT_RUNTIME  # the runtime it was timed in, or the table that predicted it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def count_params(model: nn.Module) -> int:
    """Trainable and BatchNorm affine parameters (buffers excluded)."""
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, input_shape: tuple[int, ...]) -> MacCount:
    """MACs of one forward pass on one sample of `input_shape` (C, H, W)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    sample = torch.zeros((1, *input_shape), device=device)
    analysis = FlopCountAnalysis(model, (sample,))
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    # fvcore traces with torch.jit, which warns of its deprecation on every call.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            by_operator = analysis.by_operator()
            unsupported = {op: int(n) for op, n in analysis.unsupported_ops().items() if op not in _FREE_OPS}
    finally:
        model.train(was_training)
    macs = sum(int(by_operator.get(name, 0)) for name in _MAC_OPERATORS)
    return MacCount(macs=macs, unsupported_ops=unsupported)


def candidate_latency(
    model: nn.Module,
    input_shape: tuple[int, ...],
    device: torch.device,
    *,
    batch_size: int = 1,
    repeats: int = LATENCY_REPEATS,
    runtime: str = DEFAULT_RUNTIME,
    threads: int | None = None,
) -> Latency:
    """Latency in `runtime` on `threads` CPU threads (None: all the machine's, as dsdnas measures unless told);
    the caller holds a quiet window (`quiet_latency` takes one for a single model)."""
    return measure_latency(
        model,
        input_shape,
        batch_size,
        device=device,
        warmup=LATENCY_WARMUP,
        repeats=repeats,
        threads=threads or cpu_count(),
        runtime=runtime,
    )


def quiet_latency(
    model: nn.Module,
    input_shape: tuple[int, ...],
    device: torch.device,
    *,
    batch_size: int = 1,
    repeats: int,
    runtime: str = DEFAULT_RUNTIME,
    threads: int | None = None,
) -> Latency:
    """Latency in `runtime`, measured while no dsdnas process on this machine trains on `device`, on `threads`
    CPU threads (None: all)."""
    with QuietWindows(device).measuring():
        return candidate_latency(
            model, input_shape, device, batch_size=batch_size, repeats=repeats, runtime=runtime, threads=threads
        )


_UNTIMED = {"latency_reason": "", "latency_load": None, "threads": None}


def latency_costs(latency: Latency | None) -> dict[str, Any]:
    """The latency fields of `Costs` from one measurement or prediction; all None without one."""
    if latency is None:
        return {**dict.fromkeys(("latency_ms", "latency_p10_ms", "latency_p90_ms", "latency_noisy")), **_UNTIMED}
    return {
        "latency_ms": latency.p50_ms,
        "latency_p10_ms": latency.p10_ms,
        "latency_p90_ms": latency.p90_ms,
        "latency_noisy": latency.noisy,
        "latency_reason": latency.reason,
        "latency_load": latency.load_1m,
        "threads": latency.threads,
    }


def time_candidate(
    model: nn.Module, arch: Arch, device: torch.device, *, runtime: str = DEFAULT_RUNTIME, threads: int | None = None
) -> Latency:
    """A candidate's batch-1 latency in `runtime` on `threads` CPU threads, as every search times it."""
    return quiet_latency(
        model.to(device), arch.input_shape, device, repeats=LATENCY_REPEATS, runtime=runtime, threads=threads
    )


def profile_costs(
    model: nn.Module,
    arch: Arch,
    device: torch.device,
    *,
    runtime: str = DEFAULT_RUNTIME,
    threads: int | None = None,
    predicted: Latency | None = None,
    source: str | None = None,
    timed: bool = True,
) -> Costs:
    """MACs, params, receptive field and batch-1 latency of a freshly built model: timed in `runtime` (on
    `threads` CPU threads, None: all), or
    `predicted` (by a latency table, `source` naming it) and then not timed at all. `timed=False` leaves
    the latency out (None), for a search that times only the candidates it trains to the end."""
    started = time.perf_counter()
    model = model.to(device)
    macs = count_macs(model, arch.input_shape)
    latency = predicted or (time_candidate(model, arch, device, runtime=runtime, threads=threads) if timed else None)
    return Costs(
        macs=macs.macs,
        params=count_params(model),
        receptive_field=arch.receptive_field(),
        **latency_costs(latency),
        unsupported_ops=macs.unsupported_ops,
        profile_s=time.perf_counter() - started,
        latency_source=source or (latency.runtime if latency is not None else runtime),
    )


def reference_costs(
    model: nn.Module,
    input_shape: tuple[int, ...],
    device: torch.device,
    *,
    runtime: str = DEFAULT_RUNTIME,
    threads: int | None = None,
) -> dict[str, Any]:
    """MACs, params and batch-1 latency of any model (a reference one), measured as candidates are."""
    model = model.to(device)
    macs = count_macs(model, input_shape)
    latency = quiet_latency(model, input_shape, device, repeats=LATENCY_REPEATS, runtime=runtime, threads=threads)
    return {
        "macs": macs.macs,
        "params": count_params(model),
        "latency_ms": latency.p50_ms,
        "latency_p10_ms": latency.p10_ms,
        "latency_p90_ms": latency.p90_ms,
        "latency_noisy": latency.noisy,
        "threads": latency.threads,
        "latency_runtime": latency.runtime,  # what timed it
        "unsupported_ops": macs.unsupported_ops,
    }


def profile_arch(
    arch: Arch,
    device: torch.device,
    *,
    batch_size: int,
    repeats: int,
    runtime: str = DEFAULT_RUNTIME,
    threads: int | None = None,
) -> dict[str, Any]:
    """MACs, params, receptive field, and latency in `runtime` on `threads` CPU threads (None: all) at batch 1
    and at `batch_size`."""
    model = build_model(arch).to(device)
    macs = count_macs(model, arch.input_shape)
    timing = {"repeats": repeats, "runtime": runtime, "threads": threads}
    single = quiet_latency(model, arch.input_shape, device, **timing)
    batched = quiet_latency(model, arch.input_shape, device, batch_size=batch_size, **timing)
    return {
        "notation": arch.notation,
        "arch_hash": arch.hash,
        "input_shape": list(arch.input_shape),
        "macs": macs.macs,
        "params": count_params(model),
        "receptive_field": arch.receptive_field(),
        "layers": [
            {"name": s.name, "in_size": list(s.in_size), "out_shape": list(s.out_shape)} for s in arch.layer_shapes()
        ],
        "latency_batch1": single.to_dict(),
        "latency_batch": batched.to_dict(),
        "images_per_s": batch_size / (batched.p50_ms / 1000.0),
        "unsupported_ops": macs.unsupported_ops,
    }
