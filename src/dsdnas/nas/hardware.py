"""The hardware dsdnas runs on: --device as a torch.device, and whether the work fits its memory.

Memory is checked before anything is loaded or trained, so a job too big for the machine
is refused in one line with the figures, instead of dying minutes later in an allocation.
"""

from __future__ import annotations

import os
import re

import torch

from dsdnas.errors import DsdnasError, ResourceError

MEMORY_MARGIN = 0.9  # use at most this share of what is free: the process and the OS need some too


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


def hostname() -> str:
    """This machine's name in worker ids; DSDNAS_HOSTNAME overrides it where containers share one name."""
    import socket

    return os.environ.get("DSDNAS_HOSTNAME") or socket.gethostname()


def worker_id() -> str:
    """host:pid of this process: who ran a trial, and whether that process is still alive."""
    return f"{hostname()}:{os.getpid()}"


def cpu_count() -> int:
    """CPUs this process may run on: the thread count for latency, shared out among --jobs workers."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def available_memory(device: torch.device) -> tuple[int, str]:
    """Bytes free for tensors on `device` now, and a name for that memory."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free), f"{torch.cuda.get_device_name(device)} ({device})"
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024, "this machine's memory"
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), "this machine's memory"


def gigabytes(size: float) -> str:
    return f"{size / 2**30:.1f} GB" if size >= 2**30 else f"{size / 2**20:.0f} MB"


def require_memory(needed: int, device: torch.device, *, what: str, hint: str) -> None:
    """Refuse, with the figures, work that needs more than the free memory of `device` allows."""
    free, where = available_memory(device)
    if needed > MEMORY_MARGIN * free:
        raise ResourceError(f"{what} needs about {gigabytes(needed)}, but {where} has {gigabytes(free)} free; {hint}")


def machine_info(device: torch.device) -> dict[str, object]:
    """What a figure was measured on: host, CPU model and threads, GPU, and the versions that matter."""
    import platform
    from importlib import metadata

    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "?"

    return {
        "host": platform.node(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpus": cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "device": str(device),
        "python": platform.python_version(),
        "versions": {name: version(name) for name in ("dsdnas", "torch", "torchvision", "optuna", "fvcore")},
    }


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()
