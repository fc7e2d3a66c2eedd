"""A space's distinct layers: exactly those its candidates contain, each timed as the network runs it."""

from dataclasses import replace

import pytest
import torch

from dsdnas.nas.model.arch import Arch, Block, Head, Stem
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.layers import arch_layers, handoff_elements
from dsdnas.search_spaces import BUILTIN_NAMES, get_space, sample_archs, space_layers


def test_the_layers_of_a_space_are_exactly_those_of_all_its_candidates():
    space, shape = get_space("dsd-tiny"), (1, 28, 28)
    every = sample_archs(space, shape, 10, count=space.size(shape), seed=0)
    assert len(every) == space.size(shape) == 272  # every candidate of the space, drawn
    contained = {layer.key for arch in every for layer in arch_layers(arch)}
    assert set(space_layers(space, shape, 10)) == contained


@pytest.mark.parametrize("name", BUILTIN_NAMES)
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 20, 36)])
def test_every_layer_of_every_sampled_candidate_is_listed(name, shape):
    space = get_space(name)
    listed = space_layers(space, shape, 7)
    for arch in sample_archs(space, shape, 7, count=150, seed=3):
        assert {layer.key for layer in arch_layers(arch)} <= set(listed), arch.notation


def test_a_key_names_the_input_shape_the_activation_and_the_classes_but_not_the_dropout():
    arch = Arch(
        (1, 28, 28),
        10,
        Stem(8),
        (Block("separable", 5, 2, 16, 2), Block("standard", 3, 1, 16, 1, residual=True, activation="hardswish")),
        Head(0.1, kind="pool", pool=2, hidden=32),
    )
    assert [layer.key for layer in arch_layers(arch)] == [
        "stem_k3_c8_s1_relu@1x28x28",
        "sep_k5_d2_c16_s2_relu@8x28x28",
        "std_k3_d1_c16_s1_res_hardswish@16x14x14",
        "head_pool2_h32_n10@16x14x14",
    ]
    # What the stem hands the first block (8x28x28) and that block the second (16x14x14); not the head's input.
    assert handoff_elements(arch) == 8 * 28 * 28 + 16 * 14 * 14
    assert handoff_elements(replace(arch, blocks=())) == 0  # the stem hands its map straight to the head


def test_the_layers_chained_with_the_networks_weights_compute_the_network(small_arch):
    net = build_model(small_arch, seed=3).eval()
    parts = [net.stem, *net.blocks]
    x = torch.rand(2, *small_arch.input_shape)
    with torch.no_grad():
        out = x
        for layer, part in zip(arch_layers(small_arch)[:-1], parts, strict=True):
            module = layer.build().eval()
            module.load_state_dict(part.state_dict())
            assert tuple(out.shape[1:]) == layer.input_shape
            out = module(out)
        head = arch_layers(small_arch)[-1].build().eval()
        head.load_state_dict({k: v for k, v in net.state_dict().items() if k.split(".")[0] in ("hidden", "classifier")})
        assert torch.allclose(head(out), net(x), atol=1e-6)


def test_a_refused_candidate_is_replaced_by_the_next_draw():
    # `dsdnas lut --check N` times N candidates the runtime can run: each one it cannot is drawn again.
    space, shape = get_space("dsd-range"), (1, 28, 28)
    no_pool_head = sample_archs(space, shape, 10, count=12, seed=5, keep=lambda arch: arch.head.kind != "pool")
    assert len(no_pool_head) == 12 and all(arch.head.kind != "pool" for arch in no_pool_head)
    plain = sample_archs(space, shape, 10, count=12, seed=5)
    assert any(arch.head.kind == "pool" for arch in plain)  # the filter had work to do
    assert [a for a in plain if a.head.kind != "pool"] == no_pool_head[: sum(a.head.kind != "pool" for a in plain)]
