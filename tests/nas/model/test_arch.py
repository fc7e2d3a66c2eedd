import json

import pytest

from dsdnas.errors import SpecError
from dsdnas.nas.model.arch import Arch, Block, Stem, conv_output_size, load_arch


def test_json_round_trip(small_arch):
    text = small_arch.to_json()
    assert Arch.from_json(text) == small_arch
    assert json.loads(text)["input_shape"] == [1, 28, 28]


def test_hash_is_stable_and_content_based(small_arch):
    # A literal: the hash must not change between runs, processes or versions.
    assert small_arch.hash == Arch.from_json(small_arch.to_json()).hash
    assert small_arch.hash == "321aceb8265f"
    wider = Arch(small_arch.input_shape, 10, Stem(24), small_arch.blocks, small_arch.head)
    assert wider.hash != small_arch.hash


@pytest.mark.parametrize(
    "block",
    [
        Block("separable", 5, 2, 32, 1),
        Block("standard", 3, 1, 8, 2),
        Block("standard", 7, 4, 64, 1, residual=True),
        Block("separable", 1, 1, 16, 2, activation="silu"),
        Block("separable", 3, 3, 48, 1, residual=True, activation="hardswish"),
    ],
)
def test_notation_round_trip(block):
    assert Block.from_notation(block.notation) == block


def test_notation_reads_as_documented():
    assert Block("separable", 5, 2, 32, 1).notation == "sep_k5_d2_c32_s1"
    assert Block.from_notation("std_k3_d1_c16_s2_res_relu6") == Block("standard", 3, 1, 16, 2, True, "relu6")


@pytest.mark.parametrize("text", ["sep_k5_d2_c32", "conv_k3_d1_c8_s1", "sep_k4_d1_c8_s1", "sep_k3_d1_c8_s3"])
def test_bad_notation_is_rejected(text):
    with pytest.raises(SpecError):
        Block.from_notation(text)


def test_residual_needs_matching_shapes():
    with pytest.raises(SpecError, match="residual"):
        Arch((1, 28, 28), 10, Stem(16), (Block("standard", 3, 1, 32, 1, residual=True),))


def test_from_dict_names_the_bad_field():
    with pytest.raises(SpecError, match="kernel must be odd"):
        Arch.from_dict(
            {
                "input_shape": [1, 8, 8],
                "num_classes": 2,
                "stem": {"channels": 4},
                "blocks": [{"kind": "standard", "kernel": 4, "dilation": 1, "channels": 4}],
            }
        )
    with pytest.raises(SpecError, match="unknown architecture field"):
        Arch.from_dict({"input_shape": [1, 8, 8], "num_classes": 2, "stem": {"channels": 4}, "blocks": [], "x": 1})


def test_load_arch_names_the_file(tmp_path):
    path = tmp_path / "arch.json"
    path.write_text("{not json")
    with pytest.raises(SpecError, match=str(path)):
        load_arch(str(path))


def test_stride_one_keeps_the_size_and_stride_two_rounds_up():
    # The textbook's k=3, d=2 conv with padding 1 maps 224 to 222; padded by d(k-1)/2 it keeps 224.
    assert conv_output_size(224, 1) == 224
    assert conv_output_size(28, 2) == 14 and conv_output_size(7, 2) == 4


def test_geometry_and_receptive_field(small_arch):
    shapes = small_arch.layer_shapes()
    assert [s.out_shape for s in shapes] == [(16, 28, 28), (32, 14, 14), (32, 14, 14), (64, 7, 7)]
    # stem 3, then +(3-1)*1, +(5-1)*2 (dilated 3x3 after stride 2), +(5-1)*2
    assert small_arch.receptive_field() == 3 + 2 + 8 + 8
    assert small_arch.infeasible_blocks() == []
    tight = Arch((1, 8, 8), 2, Stem(4), (Block("standard", 7, 2, 4, 2), Block("standard", 5, 1, 4, 1)))
    assert len(tight.infeasible_blocks()) == 2
