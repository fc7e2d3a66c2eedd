"""The plain log: one line per event, whatever the terminal's width."""

import io
import shlex

import pytest
from rich.console import Console

from dsdnas.cli import _progress as progress
from dsdnas.cli._common import MASKED_NOTE, console
from dsdnas.cli._front import front_table, next_steps
from dsdnas.cli._progress import PlainObserver, finished_line


def test_a_long_trial_line_is_never_wrapped():
    row = {
        "status": "stopped",
        "notation": "stem_k3_c16_s2 sep_k5_d2_c32_s2 std_k3_d1_c64_s1 sep_k7_d3_c64_s2",
        "reason": "stopped after 1 of 3 epochs at 91.25%: not in the top 1/3 of its rung",
        "accuracy": 0.9125,
        "macs": 1_234_567,
    }
    with console.capture() as captured:
        PlainObserver().trial_finished(12, row, [], 7)
    text = captured.get()
    assert len(text) > console.width and text.count("\n") == 1
    assert text.startswith("trial 12 stopped: stem_k3_c16_s2") and text.endswith("| evaluated 7\n")


FRONT = [
    {"trial": 0, "pick": "", "accuracy": 0.1, "accuracy_low": 0.066, "accuracy_high": 0.149, "macs": 3548,
     "params": 52, "latency_ms": 0.15, "search_latency_ms": 0.16, "latency_when": "at the end",
     "notation": "stem_k3_c2_s2"},
    {"trial": 2, "pick": "knee", "accuracy": 0.935, "accuracy_low": 0.892, "accuracy_high": 0.962, "macs": 57_900,
     "params": 50_900, "latency_ms": 0.12, "search_latency_ms": None, "latency_when": "at the end",
     "notation": "stem_k3_c4_s2 head_flat_h64"},
    {"trial": 10, "pick": "best", "accuracy": 0.95, "accuracy_low": 0.91, "accuracy_high": 0.973, "macs": 89_400,
     "params": 47_300, "latency_ms": 0.142, "search_latency_ms": None, "latency_when": "at the end",
     "notation": "stem_k3_c24_s2 sep_k7_d4_c64_s1_res_hardswish std_k5_d3_c128_s2_hardswish head_pool4_h64_drop0.1"},
]  # fmt: skip


def _rendered(renderable, width: int) -> list[str]:
    wide = Console(width=width, record=True, file=io.StringIO())
    wide.print(renderable)
    return wide.export_text().splitlines()


@pytest.mark.parametrize("width", [80, 160])
def test_the_front_table_fits_the_terminal_and_keeps_every_notation_whole(width):
    lines = _rendered(front_table(FRONT, width=width), width)
    assert max(len(line) for line in lines) <= width
    text = "\n".join(lines)
    for row in FRONT:  # every block's notation whole, in the table (wide) or under it (narrow)
        for token in row["notation"].split():
            assert any(token in line for line in lines), token
    assert "0.150 ms" in text and "0.160 ms" not in text  # the latency timed at the end, not the search's
    assert "latency*" in text and "* timed back to back when the search ended, while nothing trained" in text
    assert "93.50% [89.2, 96.2]" in text and "knee" in text and "best" in text


def test_a_finished_search_names_the_report_the_best_the_knee_and_the_next_commands(tmp_path):
    lines = next_steps(tmp_path / "my run", FRONT, "postgresql://ann:***@db/nas")
    quoted = shlex.quote(str(tmp_path / "my run"))
    assert lines[0] == f"report: {tmp_path / 'my run' / 'report.html'} (dsdnas report {quoted} --storage " \
        "'postgresql://ann:***@db/nas' --open)"  # fmt: skip
    assert lines[1] == "best: trial 10, validation 95.00% [91.0, 97.3], 89.4k MACs, 0.142 ms"
    assert lines[2] == "knee: trial 2, validation 93.50% [89.2, 96.2], 57.9k MACs, 0.120 ms"
    assert "farthest from the line joining" in lines[3]
    assert f"  dsdnas finetune {quoted} --storage 'postgresql://ann:***@db/nas' --pick knee" in lines
    assert f"  dsdnas export {quoted} --storage 'postgresql://ann:***@db/nas' --pick knee --out shipped" in lines
    assert lines[-1] == MASKED_NOTE  # the commands cannot connect as shown: say what to put back
    assert MASKED_NOTE not in next_steps(tmp_path, FRONT, "postgresql://ann@db/nas")  # no password, nothing to say


def test_every_finished_candidate_gets_one_line_whatever_became_of_it():
    base = {"notation": "stem_k3_c4_s2 head_flat", "accuracy": 0.9, "accuracy_low": 0.85, "accuracy_high": 0.93,
            "macs": 14_896, "reason": ""}  # fmt: skip
    trained = finished_line(3, {**base, "status": "trained"}, 4)
    assert trained == "trial 3 trained: stem_k3_c4_s2 head_flat | 90.00% [85.0, 93.0], 14.9k MACs | evaluated 4"
    skipped = finished_line(4, {**base, "status": "skipped", "accuracy": 0.0, "reason": "macs over --max-macs"}, 4)
    assert skipped == "trial 4 skipped: stem_k3_c4_s2 head_flat | 14.9k MACs | macs over --max-macs | evaluated 4"
    assert finished_line(5, {**base, "status": "twin", "macs": None, "accuracy": None, "notation": ""}, 4) == (
        "trial 5 twin: - | - | evaluated 4"
    )


def test_the_epoch_bar_label_is_cut_to_the_width_left_beside_the_bars(monkeypatch):
    narrow = Console(width=80, file=io.StringIO())
    monkeypatch.setattr(progress, "console", narrow)
    observer = progress.RichObserver()
    observer.search_started(0, 12, None, "")
    try:
        observer.trial_started(7, FRONT[2]["notation"], 3)
        description = observer.progress.tasks[observer.epoch_task].description
        assert description.startswith("trial 7: stem_k3_c24_s2") and description.endswith("…")
        assert len(description) + observer.fixed_width <= 80
    finally:
        observer.live.stop()
