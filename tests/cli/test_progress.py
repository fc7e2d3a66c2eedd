"""The plain log: one line per event, whatever the terminal's width."""

from dsdnas.cli._common import console
from dsdnas.cli._progress import PlainObserver


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
