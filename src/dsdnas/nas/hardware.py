"""The hardware dsdnas runs on: --device auto|cpu|cuda[:N]|mps as a torch.device, with clear errors."""

from __future__ import annotations

import re

import torch

from dsdnas.errors import DsdnasError


def resolve_device(spec: str = "auto") -> torch.device:
    """`auto` is CUDA when present, else MPS when present, else the CPU."""
    spec = (spec or "auto").strip().lower()
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if spec == "cpu":
        return torch.device("cpu")
    match = re.fullmatch(r"cuda(?::(\d+))?", spec)
    if match:
        if not torch.cuda.is_available():
            raise DsdnasError(f"--device {spec}: CUDA is not available on this machine; use --device cpu or auto")
        index = int(match[1] or 0)
        if index >= torch.cuda.device_count():
            raise DsdnasError(f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s) here")
        return torch.device("cuda", index)
    if spec == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise DsdnasError("--device mps: Apple MPS is not available on this machine; use --device cpu or auto")
        return torch.device("mps")
    raise DsdnasError(f"--device {spec!r} is not one of auto, cpu, cuda, cuda:N, mps")
