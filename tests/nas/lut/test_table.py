"""The latency table's arithmetic, its file and its refusals, on tables written out by hand."""

import json

import pytest

from dsdnas.nas.lut import LatencyTable, LutError, check_identity, load_table, mape, spearman
from dsdnas.nas.lut._fit import fit_constants, predict_row, spearman_text
from dsdnas.nas.model.arch import Arch, Block, Head, Stem

ARCH = Arch((1, 28, 28), 10, Stem(8), (Block("separable", 3, 1, 16, 2),), Head())
KEYS = ("stem_k3_c8_s1_relu@1x28x28", "sep_k3_d1_c16_s2_relu@8x28x28", "head_gap_n10@16x14x14")


def _table(**changes) -> LatencyTable:
    fields = {
        "device": "cpu",
        "runtime": "torch",
        "threads": 2,
        "input_shape": (1, 28, 28),
        "num_classes": 10,
        "machine": {"host": "phone"},
        "layers": {
            key: {"ms": ms, "p90_ms": ms, "noisy": False} for key, ms in zip(KEYS, (0.1, 0.25, 0.05), strict=True)
        },
        "call_ms": 0.01,
        "model_ms": 0.03,
    }
    return LatencyTable(**{**fields, **changes})


def test_a_prediction_is_the_sum_of_the_layers_less_the_extra_calls_plus_the_model_constant():
    # 0.1 + 0.25 + 0.05 = 0.4; three layers timed alone paid 3 calls, the whole model pays 1: -0.02; +0.03.
    assert _table().predict_ms(ARCH) == pytest.approx(0.41)
    assert _table(call_ms=0.0, model_ms=0.0).predict_ms(ARCH) == pytest.approx(0.4)


def _rows(*candidates, handed=(1000, 3000, 2000)):
    """Calibration rows; each hands `handed` elements in turn between layers (the fit is free to find them free)."""
    return [
        {"layers": layers, "handed": handed[i % len(handed)], "sum_ms": total, "measured_ms": whole}
        for i, (layers, total, whole) in enumerate(candidates)
    ]


def test_a_prediction_takes_off_what_the_layers_alone_paid_for_each_element_handed_between_them():
    # ARCH's block takes the stem's 8x28x28 = 6,272 elements (the head's input is not counted): at 2 ns each,
    # 0.012544 ms off the 0.41 above.
    assert _table(element_ns=2.0).predict_ms(ARCH) == pytest.approx(0.41 - 0.012544)
    assert _table(element_ns=None).predict_ms(ARCH) == pytest.approx(0.41)  # a table from before: none taken off


def test_the_constants_are_the_line_through_the_candidates_timed_whole():
    # Each made so: whole = sum - (layers - 1) * 0.017 + 0.004, the boundary cost twice the identity's 0.008.
    exact = _rows(*[(2, 0.030, 0.017), (3, 0.080, 0.050), (5, 0.200, 0.136), (4, 0.100, 0.053)] * 2)
    # To 1e-12 ms: the fit is in float64 (float32 would be off by about 1e-8).
    assert fit_constants(exact, identity_ms=0.008) == pytest.approx((0.017, 0.004, 0.0), rel=1e-9, abs=1e-12)
    two_counts = _rows(*[(2, 0.030, 0.017), (4, 0.100, 0.053), (2, 0.050, 0.037), (4, 0.090, 0.043)] * 2)
    assert fit_constants(two_counts, identity_ms=0.008) == pytest.approx((0.017, 0.004, 0.0), rel=1e-9, abs=1e-12)


def test_the_fit_finds_what_a_layer_alone_pays_for_each_element_it_is_handed():
    # whole = sum - (layers - 1) * 0.017 - handed * 0.5 ns + 0.004; handed (thousands) varies apart from the layers.
    made = [(layers, handed, total) for layers, handed, total in [(2, 2, 0.03), (3, 9, 0.08), (5, 12, 0.2)] * 2]
    made += [(4, 20, 0.1), (3, 1, 0.05), (4, 6, 0.12), (2, 15, 0.04)]
    rows = [
        {"layers": n, "handed": k * 1000, "sum_ms": total, "measured_ms": total - (n - 1) * 0.017 - k * 0.0005 + 0.004}
        for n, k, total in made
    ]
    assert fit_constants(rows, identity_ms=0.008) == pytest.approx((0.017, 0.004, 0.5))
    # Two values of handed are enough when they do not follow the layer count.
    pairs = [(2, 0, 0.03), (3, 10, 0.08), (4, 0, 0.12), (2, 10, 0.05), (3, 0, 0.07), (4, 10, 0.15)] * 2
    rows = [
        {"layers": n, "handed": k * 1000, "sum_ms": total, "measured_ms": total - (n - 1) * 0.017 - k * 0.0005 + 0.004}
        for n, k, total in pairs
    ]
    assert fit_constants(rows, identity_ms=0.008) == pytest.approx((0.017, 0.004, 0.5))
    # Without the element term, as bench_lut prints beside it: the boundary absorbs what it can.
    call_ms, model_ms, element_ns = fit_constants(rows, identity_ms=0.008, elements=False)
    assert element_ns == 0.0 and (call_ms, model_ms) != pytest.approx((0.017, 0.004), rel=0.01)


def test_an_element_that_comes_out_cheaper_handed_than_kept_is_left_out_of_the_fit():
    # whole = sum - (layers - 1) * 0.017 + handed * 1.5 ns + 0.004: a negative cost an element, which no copy makes.
    made = [(2, 2, 0.03), (3, 9, 0.08), (5, 12, 0.2), (4, 20, 0.1), (3, 1, 0.05), (4, 6, 0.12), (2, 15, 0.04)] * 2
    rows = [
        {"layers": n, "handed": k * 1000, "sum_ms": total, "measured_ms": total - (n - 1) * 0.017 + k * 0.0015 + 0.004}
        for n, k, total in made
    ]
    call_ms, model_ms, element_ns = fit_constants(rows, identity_ms=0.008)
    assert element_ns == 0.0
    assert (call_ms, model_ms, element_ns) == fit_constants(rows, identity_ms=0.008, elements=False)


def test_the_fit_weighs_each_candidate_by_its_relative_error():
    # Small candidates on the line above (three, three times), one 100x larger that reads 10% slow: the small keep the
    # fit (a plain least-squares fit follows the large one's 0.2 ms off, to 0.0074 ms a boundary).
    small = [(2, 0.030, 0.017), (3, 0.080, 0.050), (4, 0.100, 0.053)] * 3
    rows = _rows(*small, (5, 2.068 + 0.2, 2.0 * 1.1 + 0.036))
    call_ms, model_ms, element_ns = fit_constants(rows, identity_ms=0.008)
    assert call_ms == pytest.approx(0.017, rel=0.05) and model_ms == pytest.approx(0.004, abs=0.001)
    assert element_ns == pytest.approx(0.0, abs=0.1)


def test_a_layer_may_pay_less_alone_than_in_the_whole_model():
    # whole = sum + (layers - 1) * 0.030 - 0.010: each boundary adds 3.75 identity calls (torch's layers, cached alone).
    rows = _rows(*[(2, 0.100, 0.120), (3, 0.200, 0.250), (4, 0.300, 0.380), (5, 0.400, 0.510)] * 2)
    assert fit_constants(rows, identity_ms=0.008) == pytest.approx((-0.030, -0.010, 0.0), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    ("rows", "model_ms"),
    [  # model_ms: the median of whole - sum + boundaries * 0.008
        (_rows(*[(2, 0.030, 0.017), (3, 0.080, 0.050)] * 3, (4, 0.100, 0.053)), -0.014),  # 7: too few to trust
        (_rows(*[(3, 0.080, 0.060), (3, 0.090, 0.072), (3, 0.100, 0.080)] * 3), -0.004),  # one layer count
        # whole = sum - 0.06 a boundary: 7.5 identity calls, past what any real fit gave (noise in a narrow spread)
        (_rows(*[(3, 0.200, 0.080), (4, 0.300, 0.120)] * 4), (-0.104 - 0.156) / 2),
        (_rows(*[(3, 0.080, 0.200), (4, 0.120, 0.300)] * 4), (0.136 + 0.204) / 2),  # and + 0.06, the other way
    ],
    ids=["seven candidates", "one layer count", "far past an identity's call", "as far the other way"],
)
def test_without_a_fit_to_trust_the_boundary_costs_an_identitys_call(rows, model_ms):
    assert fit_constants(rows, identity_ms=0.008) == pytest.approx((0.008, model_ms, 0.0))


def test_a_missing_layer_is_named_with_the_command_that_adds_it():
    table = _table(runtime="onnxruntime", threads=4)
    del table.layers[KEYS[1]]
    with pytest.raises(LutError) as error:
        table.predict_ms(ARCH)
    # The command a table made with other than the defaults accepts: every setting check_identity compares.
    assert str(error.value).startswith("lut.json has no entry for layer sep_k3_d1_c16_s2_relu@8x28x28 (of ")
    assert str(error.value).endswith(
        ": dsdnas lut --space SPACE --input 1x28x28 --classes 10 --runtime onnxruntime --threads 4 --device cpu "
        "--out lut.json"
    )


def test_a_layer_the_runtime_cannot_run_makes_the_candidate_unsupported_naming_it():
    from dsdnas.nas.model.runtimes import UnsupportedModel

    table = _table()
    table.layers[KEYS[2]] = {"ms": None, "p90_ms": None, "noisy": False, "unsupported": "no pooling op"}
    assert table.unsupported(ARCH) == f"layer {KEYS[2]}: no pooling op"
    with pytest.raises(UnsupportedModel, match="head_gap_n10@16x14x14: no pooling op"):
        table.predict_ms(ARCH)
    assert _table().unsupported(ARCH) == ""
    lacking = _table()
    del lacking.layers[KEYS[0]]
    assert lacking.unsupported(ARCH) == ""  # a layer it lacks is missing (named by predict_ms), not unsupported


def test_an_unfinished_table_predicts_nothing():
    with pytest.raises(LutError, match="unfinished: rerun the dsdnas lut command"):
        _table(model_ms=None).predict_ms(ARCH)


def test_a_table_counts_the_layers_that_stayed_noisy_whatever_else_an_entry_holds():
    layers = {
        "a": {"ms": 0.1, "p90_ms": 0.2, "noisy": True},
        "b": {"ms": 0.1, "p90_ms": 0.1, "noisy": False},
        "c": {"ms": None, "p90_ms": None, "noisy": False, "unsupported": "onnxruntime cannot run it"},
        "d": {"ms": 0.3, "p90_ms": 0.5, "noisy": True},
        "e": {"ms": 0.3, "p90_ms": 0.3},  # a table from before the flag
    }
    assert _table(layers=layers).noisy == 2 and _table().noisy == 0


@pytest.mark.parametrize(("noisy", "too_many"), [(0, False), (1, False), (2, True)])
def test_a_table_is_too_noisy_past_one_timed_layer_in_twenty(noisy, too_many):
    layers = {f"layer{index}": {"ms": 0.1, "p90_ms": 0.1, "noisy": index < noisy} for index in range(20)}
    # Layers the runtime cannot run were never timed: they count for neither side.
    untimed = {"ms": None, "p90_ms": None, "noisy": False, "unsupported": "onnxruntime cannot run it"}
    layers.update({f"unsupported{index}": untimed for index in range(20)})
    assert _table(layers=layers).too_noisy is too_many


def test_a_table_round_trips_through_its_file(tmp_path):
    path = _table(check={"candidates": 3, "mape": 0.1}).save(tmp_path / "phone.json")
    read = load_table(path)
    assert read.predict_ms(ARCH) == pytest.approx(0.41)
    assert read.input_shape == (1, 28, 28) and read.check == {"candidates": 3, "mape": 0.1}
    assert read.label == "predicted for phone cpu, torch 2 threads (phone.json)"  # the file it was read from
    assert json.loads(path.read_text())["format"] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("{", "not valid JSON"),
        ('{"format": 9}', "not a dsdnas latency table"),
        ("[1]", "not a dsdnas latency table"),  # JSON, but no object
        ('{"format": 1, "device": "cpu"}', "not a dsdnas latency table: .*missing"),
    ],
)
def test_a_bad_table_file_is_one_line_naming_it(tmp_path, content, message):
    path = tmp_path / "lut.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(LutError, match=message) as error:
        load_table(path)
    unreadable = content in (None, "{")  # the file's own error, after the option it came from
    assert str(error.value).startswith(f"--latency-lut: {path}" if unreadable else f"--latency-lut {path}")
    assert str(path) in str(error.value) and "\n" not in str(error.value)
    if content is None:
        assert str(error.value).endswith("does not exist")  # nothing after it: no advice for --latency-lut


def test_a_file_that_is_no_table_given_as_out_is_never_overwritten_and_the_error_says_to_pass_another(tmp_path):
    path = tmp_path / "notes.json"
    path.write_text('{"format": 9}')
    with pytest.raises(LutError) as error:
        load_table(path, option="--out")
    assert str(error.value) == (
        f"--out {path} is not a dsdnas latency table (format 1); pass another --out (an existing table is extended, "
        "nothing else is overwritten)"
    )
    with pytest.raises(LutError, match=r"\(format 1\); make one with dsdnas lut$"):
        load_table(path)


@pytest.mark.parametrize(
    ("name", "value"), [("runtime", "onnxruntime"), ("threads", 1), ("input_shape", (3, 32, 32)), ("num_classes", 2)]
)
def test_a_table_made_for_other_facts_is_refused_naming_the_first(name, value):
    wanted = {"device": "cpu", "runtime": "torch", "threads": 2, "input_shape": (1, 28, 28), "num_classes": 10}
    check_identity(_table(), wanted)
    check_identity(_table(), {**wanted, "input_shape": [1, 28, 28]})  # a shape read from JSON is a list
    with pytest.raises(LutError, match=f"measured with {name} "):
        check_identity(_table(), {**wanted, name: value})


def test_without_candidates_the_boundary_is_an_identitys_call_and_nothing_more():
    assert fit_constants([], identity_ms=0.008) == (0.008, 0.0, 0.0)


def test_a_row_is_predicted_from_its_layers_handed_elements_and_sum():
    row = {"layers": 4, "handed": 10_000, "sum_ms": 0.2, "measured_ms": 0.1}
    # 0.2 - 3 boundaries * 0.01 - 10,000 elements * 2 ns (0.02 ms) + 0.005
    assert predict_row(row, (0.01, 0.005, 2.0)) == pytest.approx(0.155)
    assert predict_row(row, (0.01, 0.005)) == pytest.approx(0.175)  # the constants before the element term


def test_the_error_measures_agree_with_cases_worked_by_hand():
    assert mape([1.1, 1.8], [1.0, 2.0]) == pytest.approx(0.1)  # 10% over, 10% under
    assert mape([], []) is None
    with pytest.raises(ValueError):  # a prediction without its measurement is a bug, not a shorter mean
        mape([1.0, 2.0], [1.0])
    assert spearman_text({"spearman": 0.9749}) == "0.97" and spearman_text({"spearman": None}) == "n/a"
    assert spearman_text({}) == "n/a"  # a check of fewer than 3 candidates
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [40, 30, 20, 10]) == pytest.approx(-1.0)
    assert spearman([1, 2, 3], [1, 3, 2]) == pytest.approx(0.5)  # ranks 1,2,3 vs 1,3,2: 1 - 6*2/(3*8)
    assert spearman([1, 2], [1, 2]) is None
