"""The probe's reference pooled over a machine's processes: the figures of a search, its fine-tune and a later
profile share one reference."""

from __future__ import annotations

import json

import pytest
import torch

from dsdnas.nas.files import cache_dir
from dsdnas.nas.model import speed, speed_store
from dsdnas.nas.model.speed import SpeedProbe
from dsdnas.nas.model.speed_store import FILE, KEEP, KEYS, machine_key, pooled, shared_reference


def kept(key: str) -> list[float]:
    return json.loads((cache_dir() / FILE).read_text())[key]["references_ms"]


def test_a_process_scales_by_the_median_reference_of_the_latest_processes():
    assert pooled([], 2.0) == (2.0, [2.0])
    assert pooled([1.0, 1.2], 3.0) == (1.2, [1.0, 1.2, 3.0])  # a process slow throughout its 5 s takes the usual
    assert pooled([3.0, 3.2], 1.0) == (3.0, [3.0, 3.2, 1.0])  # and so does a lucky one


def test_only_the_latest_processes_are_pooled_so_that_the_reference_follows_the_machine():
    reference, latest = pooled([9.0] * (KEEP // 2 + 1) + [1.0] * (KEEP // 2 - 1), 1.0)
    assert len(latest) == KEEP and latest[-1] == 1.0
    assert reference == 5.0  # the oldest 9.0 aged out: half of the 16 kept are 9.0, half 1.0


def test_the_cache_carries_the_reference_from_one_process_to_the_next():
    assert shared_reference(1.0, 1, "torch") == 1.0
    assert shared_reference(2.0, 1, "torch") == 1.5  # a later process, slower alone
    assert shared_reference(1.2, 1, "torch") == 1.2
    assert kept(machine_key(1, "torch")) == [1.0, 2.0, 1.2]


def test_each_thread_count_runtime_and_host_keeps_its_own_references(monkeypatch):
    shared_reference(1.0, 1, "torch")
    assert shared_reference(2.0, 2, "torch") == 2.0
    assert shared_reference(3.0, 1, "torchscript") == 3.0
    monkeypatch.setenv("DSDNAS_HOSTNAME", "another-node")  # two machines sharing one home folder
    assert shared_reference(4.0, 1, "torch") == 4.0
    assert len(json.loads((cache_dir() / FILE).read_text())) == 4


def test_a_new_version_of_the_runtime_starts_afresh(monkeypatch):
    shared_reference(1.0, 1, "onnxruntime")
    monkeypatch.setattr(speed_store, "runtime_versions", lambda runtime: {"onnxruntime": "99.0"})
    assert shared_reference(3.0, 1, "onnxruntime") == 3.0  # not pooled with the older version's 1.0


def test_the_cache_holds_the_latest_processes_only():
    for ms in range(1, KEEP + 5):
        shared_reference(float(ms), 1, "torch")
    assert kept(machine_key(1, "torch")) == [float(ms) for ms in range(5, KEEP + 5)]


def test_the_cache_forgets_the_machines_least_recently_used(monkeypatch):
    for host in range(KEYS + 1):
        monkeypatch.setenv("DSDNAS_HOSTNAME", f"container-{host}")  # a new host name each run
        shared_reference(1.0, 1, "torch")
        if host == 1:
            monkeypatch.setenv("DSDNAS_HOSTNAME", "container-0")
            shared_reference(1.0, 1, "torch")  # container-0 used again: now container-1 is the oldest
    hosts = {key.split("|")[0] for key in json.loads((cache_dir() / FILE).read_text())}
    assert len(hosts) == KEYS and "container-0" in hosts and "container-1" not in hosts and "container-2" in hosts


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[1, 2]",
        '{"KEY": "fast"}',
        '{"KEY": {"references_ms": [-1]}}',
        '{"KEY": [1.0]}',
        '{"KEY": {"references_ms": [1.0]}}',
        '{"other": []}',
        '{"KEY": {"references_ms": [0], "used": 1}}',
        '{"KEY": {"references_ms": [1], "used": "x"}}',
    ],
)
def test_a_damaged_cache_is_started_afresh(content):
    path = cache_dir() / FILE
    path.parent.mkdir(parents=True)
    path.write_text(content.replace("KEY", machine_key(1, "torch")))
    assert shared_reference(2.0, 1, "torch") == 2.0
    assert list(json.loads(path.read_text())) == [machine_key(1, "torch")] and kept(machine_key(1, "torch")) == [2.0]


def test_a_cache_that_cannot_be_written_leaves_the_process_its_own_reference(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("DSDNAS_CACHE", str(tmp_path / "a-file" / "cache"))
    assert shared_reference(2.0, 1, "torch") == 2.0
    assert shared_reference(3.0, 1, "torch") == 3.0  # nothing was kept


def test_the_probe_scales_by_the_pooled_reference(monkeypatch):
    torch.set_num_threads(1)
    probe = SpeedProbe(torch.device("cpu"))
    for windows in ([3.0, 1.0, 2.0], [5.0, 4.0]):  # two processes, the second in a slow state throughout
        monkeypatch.setattr(speed, "_references", {})
        monkeypatch.setattr(SpeedProbe, "windows", lambda self, count, found=windows: found)
        reference = probe.reference_ms()
    assert reference == 2.5  # the median of the two processes' fastest windows, 1.0 and 4.0
