"""Quiet windows: trainers share the device, a latency measurement has it alone, and waits at most a chunk.

flock locks belong to open files, so two QuietWindows in two threads of one process
contend exactly as two processes would.
"""

import json
import os
import threading
import time

import pytest

from dsdnas.nas.quiet import QuietWindows, device_key


@pytest.mark.parametrize(("device", "key"), [("cpu", "cpu"), ("cuda", "cuda0"), ("cuda:1", "cuda1"), ("mps", "mps")])
def test_each_device_has_its_own_file_safe_lock(device, key, tmp_path):
    assert device_key(device) == key
    windows = QuietWindows(device, tmp_path)
    assert windows.lock_path == tmp_path / f"{key}.lock" and windows.gate_path == tmp_path / f"{key}.gate"
    assert windows.lock_path.exists() and windows.gate_path.exists()


def _timeline(tmp_path, first: str, second: str, hold_s: float = 0.4) -> dict[str, tuple[float, float]]:
    """`first` enters its window and holds it for hold_s; `second` starts trying just after. Their windows."""
    windows = {name: QuietWindows("cpu", tmp_path) for name in ("a", "b")}
    spans: dict[str, tuple[float, float]] = {}
    entered = threading.Event()

    def hold(name: str, kind: str, signal: bool) -> None:
        with getattr(windows[name], kind)():
            start = time.monotonic()
            if signal:
                entered.set()
            time.sleep(hold_s)
            spans[name] = (start, time.monotonic())  # read inside: the next holder may start on release

    threads = [threading.Thread(target=hold, args=("a", first, True))]
    threads[0].start()
    assert entered.wait(5)
    threads.append(threading.Thread(target=hold, args=("b", second, False)))
    threads[1].start()
    for thread in threads:
        thread.join(10)
    return spans


def test_a_measurement_waits_for_a_training_chunk_to_end(tmp_path):
    spans = _timeline(tmp_path, "training", "measuring")
    assert spans["b"][0] >= spans["a"][1]  # measured only after the chunk ended


def test_training_waits_for_a_measurement_to_end(tmp_path):
    spans = _timeline(tmp_path, "measuring", "training")
    assert spans["b"][0] >= spans["a"][1]


def test_two_trainers_share_the_device(tmp_path):
    spans = _timeline(tmp_path, "training", "training")
    assert spans["b"][0] < spans["a"][1]  # the second trained while the first still did


def test_a_waiting_measurement_holds_back_new_training_chunks(tmp_path):
    """A trainer, then a measurement that waits for it, then another trainer: that one waits at the gate."""
    trainer, measurer, late = (QuietWindows("cpu", tmp_path) for _ in range(3))
    spans: dict[str, tuple[float, float]] = {}

    def window(name, windows, kind, hold_s):
        with getattr(windows, kind)():
            start = time.monotonic()
            time.sleep(hold_s)
            spans[name] = (start, time.monotonic())  # read inside: the next holder may start on release

    threads = [
        threading.Thread(target=window, args=("trainer", trainer, "training", 0.5)),
        threading.Thread(target=window, args=("measurer", measurer, "measuring", 0.3)),
        threading.Thread(target=window, args=("late", late, "training", 0.1)),
    ]
    for thread in threads:
        thread.start()
        time.sleep(0.1)  # in this order
    for thread in threads:
        thread.join(10)
    assert spans["trainer"][1] <= spans["measurer"][0] <= spans["measurer"][1] <= spans["late"][0]


def test_every_window_is_logged_with_its_kind_and_process(tmp_path, monkeypatch):
    log = tmp_path / "locks.jsonl"
    monkeypatch.setenv("DSDNAS_LOCK_LOG", str(log))
    windows = QuietWindows("cpu", tmp_path / "locks")
    with windows.training():
        time.sleep(0.01)
    with windows.measuring():
        pass
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["kind"] for line in lines] == ["train", "measure"]
    assert lines[0]["end"] - lines[0]["start"] >= 0.01 and lines[0]["end"] <= lines[1]["start"]
    assert {line["pid"] for line in lines} == {os.getpid()}


def test_an_unwritable_lock_folder_leaves_the_windows_open(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    windows = QuietWindows("cpu", blocker / "locks")  # cannot be created
    with windows.measuring(), QuietWindows("cpu", blocker / "locks").training():
        pass  # no coordination, and no deadlock


def test_the_default_lock_folder_is_the_users_cache_and_is_made_with_its_parents(tmp_path, monkeypatch):
    monkeypatch.setenv("DSDNAS_CACHE", str(tmp_path / "deep" / "cache"))
    windows = QuietWindows("cuda:0")
    assert windows.lock_path == tmp_path / "deep" / "cache" / "locks" / "cuda0.lock" and windows.lock_path.exists()
