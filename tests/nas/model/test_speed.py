"""The machine's speed, read from a probe timed beside the model: each pass scaled by it, one reference a process."""

import statistics
import time

import torch

from dsdnas.nas.model import speed
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.figure import at_full_speed, figure_ms, round_speeds
from dsdnas.nas.model.latency import figure_rule, measure_latency, timed_rounds
from dsdnas.nas.model.speed import SpeedProbe


class ScriptedProbe(SpeedProbe):
    """A machine whose speed is given: a probe pass takes `round_ms[r]` in round r; its reference is 1 ms."""

    def __init__(self, round_ms: list[float], per_round: int) -> None:
        super().__init__(torch.device("cpu"))
        passes_per_model_pass = speed.SETTLE_PASSES + 1
        self.passes = iter(ms for ms in round_ms for _ in range(per_round * passes_per_model_pass))

    def pass_ms(self) -> float:
        return next(self.passes)

    def reference_ms(self) -> float:
        return 1.0


def test_each_round_is_scaled_by_the_machines_speed_in_that_round():
    # The machine at full speed, then at half speed, then at a quarter: the probe reads 1, 2 and 4 ms.
    probe = ScriptedProbe([1.0, 2.0, 4.0], per_round=3)
    times, probes = timed_rounds(lambda: None, torch.device("cpu"), rounds=3, per_round=3, probe=probe)
    assert round_speeds(probes, probe.reference_ms(), 3) == [1.0, 0.5, 0.25]
    assert [len(round_ms) for round_ms in times] == [3, 3, 3]


class SlowAfterTheModel(SpeedProbe):
    """A probe pass takes 3 ms right after a model's pass, as if the model had evicted it, and 1 ms after another."""

    def __init__(self) -> None:
        super().__init__(torch.device("cpu"))
        self.after_model = False

    def model_pass(self) -> None:
        self.after_model = True

    def pass_ms(self) -> float:
        ms, self.after_model = (3.0 if self.after_model else 1.0), False
        return ms

    def reference_ms(self) -> float:
        return 1.0


def test_the_probe_is_timed_only_once_the_models_pass_no_longer_slows_it():
    # Timed right after the model, the probe would read 3 ms and scale the model down 3x.
    probe = SlowAfterTheModel()
    _, probes = timed_rounds(probe.model_pass, torch.device("cpu"), rounds=2, per_round=4, probe=probe)
    assert speed.SETTLE_PASSES >= 1 and probes == [[1.0] * 4] * 2


def test_a_round_timed_at_half_speed_counts_half_its_time():
    assert at_full_speed([[2.0, 2.2], [4.0, 4.4]], [1.0, 0.5]) == [[2.0, 2.2], [2.0, 2.2]]


def test_without_a_probe_nothing_is_scaled():
    _, probes = timed_rounds(lambda: time.sleep(0.001), torch.device("cpu"), rounds=2, per_round=2, probe=None)
    assert probes is None and round_speeds(probes, 1.0, 2) == [1.0, 1.0]


def test_the_figure_is_the_median_pass_at_full_speed_not_the_luckiest_round():
    # After scaling, what is left is noise of the model against the probe, to either side. One round whose passes
    # read 10% fast against their probe passes must not set the figure, as the lowest round median would (0.9).
    rounds = [[1.0] * 4, [1.0] * 4, [0.9] * 4, [1.1] * 4, [1.0] * 4]
    assert figure_ms(rounds, [[1.0] * 4] * 5, reference_ms=1.0) == 1.0
    # Each pass is scaled by its own probe pass: the machine at half speed for the middle passes of a round.
    assert figure_ms([[1.0, 2.0, 2.0, 2.0, 1.0]], [[0.5, 1.0, 1.0, 1.0, 0.5]], reference_ms=0.5) == 1.0
    # The machine at half speed throughout: the probe reads twice its reference, the model's passes count half.
    assert figure_ms([[2.0, 2.0, 2.0]], [[2.0, 2.0, 2.0]], reference_ms=1.0) == 1.0


def test_without_a_probe_the_figure_is_the_lowest_round_median():
    # On CUDA nothing is scaled, and interference only ever adds time.
    assert figure_ms([[1.2] * 3, [1.0, 1.0, 5.0], [1.5] * 3], None, reference_ms=1.0) == 1.0


def test_a_measurement_reports_the_scaled_figure_beside_the_raw_one_and_the_speed(small_arch, monkeypatch):
    monkeypatch.setattr(speed, "_references", {})
    latency = measure_latency(build_model(small_arch), small_arch.input_shape, device="cpu", threads=1, repeats=10)
    assert latency.speed is not None and latency.raw_p50_ms is not None
    assert 0 < latency.speed <= 2 and latency.raw_p50_ms > 0
    assert list(speed._references) == [("cpu", 1, "torch")]


def test_the_reference_is_measured_once_per_process_device_thread_count_and_runtime(monkeypatch):
    monkeypatch.setattr(speed, "_references", {})
    probe = SpeedProbe(torch.device("cpu"))
    torch.set_num_threads(1)
    first = probe.reference_ms()
    started = time.perf_counter()
    assert probe.reference_ms() == first and time.perf_counter() - started < 0.01  # not measured again
    window = statistics.median(probe.pass_ms() for _ in range(20))
    assert 0.005 < window < 50  # a real duration in ms: two small convs take 0.1-0.2 ms on one core
    assert 0 < first <= 3 * window  # the fastest of its windows: no slower than the machine now, give or take
    torch.set_num_threads(2)
    probe.reference_ms()
    assert set(speed._references) == {("cpu", 1, "torch"), ("cpu", 2, "torch")}
    SpeedProbe(torch.device("cpu"), "onnxruntime").reference_ms()  # each runtime its own reference
    assert ("cpu", 2, "onnxruntime") in speed._references


def test_a_report_says_how_the_figure_was_read_where_it_was_timed():
    assert figure_rule("torch", "cpu") == figure_rule("onnxruntime", "cuda:0")  # onnxruntime times on the CPU
    assert "median pass" in figure_rule("torch", "cpu")
    assert figure_rule("torch", "cuda:0") == "the lowest of 5 round medians"
