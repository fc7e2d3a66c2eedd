"""What `dsdnas blocks`, `dsdnas profile` and the reference models report, against counts made by hand."""

import pytest
import torch
from torch import nn

from dsdnas.nas.model.arch import Arch, Block, Head, Stem
from dsdnas.nas.model.block_costs import compare_blocks
from dsdnas.nas.model.costs import profile_arch, reference_costs

CPU = torch.device("cpu")


def test_each_block_kind_is_compared_undilated_then_dilated_with_its_own_counts():
    rows = compare_blocks(8, 16, 3, dilation=2, size=10, device=CPU, repeats=3)
    assert [(row.name, row.kind, row.dilation) for row in rows] == [
        ("standard", "standard", 1),
        ("standard d2", "standard", 2),
        ("separable", "separable", 1),
        ("separable d2", "separable", 2),
    ]
    standard, standard_d2, separable, separable_d2 = rows
    # 3x3 weights, 8 -> 16 channels, on a 10x10 map kept by padding: 100 output pixels.
    assert standard.conv_params == 8 * 16 * 9 and standard.params == 8 * 16 * 9 + 2 * 16
    assert standard.macs == standard_d2.macs == 100 * 16 * 8 * 9
    assert separable.conv_params == 8 * 9 + 8 * 16 and separable.params == 8 * 9 + 2 * 8 + 8 * 16 + 2 * 16
    assert separable.macs == separable_d2.macs == 100 * (8 * 9 + 8 * 16)
    assert [row.receptive_field for row in rows] == [3, 5, 3, 5]
    assert all(row.latency_ms > 0 and row.latency_p90_ms > 0 for row in rows)


def test_a_stride_of_two_quarters_the_pixels_and_no_dilation_gives_only_the_plain_rows():
    rows = compare_blocks(4, 4, 5, dilation=1, size=12, device=CPU, stride=2, repeats=3)
    assert [row.name for row in rows] == ["standard", "separable"]
    assert rows[0].macs == 6 * 6 * 4 * 4 * 25 and rows[1].receptive_field == 5


def test_a_profile_gives_the_shapes_counts_and_both_latencies_of_a_candidate():
    arch = Arch(
        input_shape=(1, 12, 12),
        num_classes=3,
        stem=Stem(4),
        blocks=(Block("standard", 3, 1, 8, 2),),
        head=Head(),
    )
    report = profile_arch(arch, CPU, batch_size=5, repeats=400, runtime="torchscript")
    stem_macs = 144 * 4 * 1 * 9  # 3x3 stem, 1 -> 4 channels on 12x12
    block_macs = 36 * 8 * 4 * 9  # stride 2: 6x6 outputs
    head_macs = 8 * 3  # global pooling, then 8 -> 3
    assert report["macs"] == stem_macs + block_macs + head_macs
    assert report["params"] == (4 * 9 + 2 * 4) + (4 * 8 * 9 + 2 * 8) + (8 * 3 + 3)
    assert report["input_shape"] == [1, 12, 12] and report["notation"] == arch.notation
    assert report["arch_hash"] == arch.hash
    assert report["receptive_field"] == 3 + (3 - 1)  # the 3x3 stem, then a 3x3 block at jump 1
    assert report["layers"][:2] == [
        {"name": "stem", "in_size": [12, 12], "out_shape": [4, 12, 12]},
        {"name": "blocks.0", "in_size": [12, 12], "out_shape": [8, 6, 6]},
    ]
    single, batched = report["latency_batch1"], report["latency_batch"]
    assert (single["batch_size"], batched["batch_size"]) == (1, 5)
    assert single["runtime"] == batched["runtime"] == "torchscript"
    assert single["repeats"] >= 400 and batched["repeats"] >= 400  # at least the passes asked for, both
    assert report["images_per_s"] == pytest.approx(5 / (report["latency_batch"]["p50_ms"] / 1000))
    assert report["unsupported_ops"] == {}


def test_a_reference_model_is_timed_in_the_runtime_asked_for():
    linear = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10))
    costs = reference_costs(linear, (1, 28, 28), CPU, runtime="torchscript")
    assert costs["latency_runtime"] == "torchscript" and costs["latency_ms"] > 0


def test_a_reference_model_is_counted_and_timed_like_a_candidate():
    model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10))
    costs = reference_costs(model, (1, 28, 28), CPU)
    assert costs["macs"] == 784 * 10 and costs["params"] == 784 * 10 + 10
    assert costs["latency_ms"] > 0 and 0 < costs["latency_p10_ms"] <= costs["latency_p90_ms"]
    assert costs["latency_runtime"] == "torch" and costs["threads"] >= 1 and costs["unsupported_ops"] == {}
    assert isinstance(costs["latency_noisy"], bool)
