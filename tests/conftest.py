"""Shared fixtures: tiny real data and small architectures."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import optuna
import pytest
import torch

from dsdnas.nas.datasets.sources import load_dataset
from dsdnas.nas.model import speed
from dsdnas.nas.model.arch import Arch, Block, Head, Stem

optuna.logging.set_verbosity(optuna.logging.WARNING)
torch.set_num_threads(min(2, torch.get_num_threads()))


def pytest_addoption(parser):
    parser.addoption(
        "--slow",
        action="store_true",
        help="also run the tests marked slow: real searches through the CLI, kills, servers (CI runs them)",
    )


def pytest_collection_modifyitems(config, items):
    """Without --slow, the slow tests are deselected (and counted so), not skipped: the default run takes
    minutes, and `pytest --slow` (CI) runs everything."""
    if config.getoption("--slow"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


@pytest.fixture(scope="session")
def mnist_sample():
    return load_dataset("mnist-sample")


@pytest.fixture
def small_arch() -> Arch:
    return Arch(
        input_shape=(1, 28, 28),
        num_classes=10,
        stem=Stem(16),
        blocks=(
            Block("separable", 3, 1, 32, 2),
            Block("standard", 3, 2, 32, 1, residual=True),
            Block("separable", 5, 1, 64, 2, activation="hardswish"),
        ),
        head=Head(0.1),
    )


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Each test gets its own dataset cache and never downloads."""
    monkeypatch.setenv("DSDNAS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("DSDNAS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _short_speed_reference(monkeypatch):
    """The probe's reference from 12 windows (1.2 s), not 48 (5 s), in this process: its length sets how well
    figures agree between processes (benchmarks/bench_reference.py), not anything a test here asserts."""
    monkeypatch.setattr(speed, "REFERENCE_WINDOWS", 12)


def skip_or_fail(message: str) -> None:
    """Skip on a developer's machine; fail in CI, where .ci/run sets DSDNAS_STRICT=1."""
    if os.environ.get("DSDNAS_STRICT") == "1":
        pytest.fail(f"{message} (DSDNAS_STRICT=1 turns this skip into a failure)")
    pytest.skip(message)


def require_browser() -> str:
    """Path of Debian's chromium."""
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if path is None:
        skip_or_fail("chromium not found: apt-get install chromium")
    return path


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL server on 127.0.0.1: DSDNAS_POSTGRES_URL (CI starts one), else a throwaway cluster."""
    if os.environ.get("DSDNAS_POSTGRES_URL"):
        yield os.environ["DSDNAS_POSTGRES_URL"]
        return
    script = Path(__file__).resolve().parents[1] / ".ci" / "postgres"
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        skip_or_fail("no PostgreSQL server: set DSDNAS_POSTGRES_URL or apt-get install postgresql")
    folder = tempfile.mkdtemp(prefix="dsdnas-pg-")  # not under pytest's 0700 tree: the server runs as postgres
    port = str(54000 + os.getpid() % 1000)
    started = subprocess.run([str(script), "start", folder, port], capture_output=True, text=True)
    if started.returncode != 0:
        skip_or_fail(f"could not start a PostgreSQL cluster: {started.stderr.strip()[:200]}")
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run([str(script), "stop", folder], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
