import pytest
import torch

import dsdnas
from dsdnas.nas.blocks import BLOCK_CLASSES


def test_build_model_is_deterministic_and_accepts_json_dicts(small_arch):
    first = dsdnas.build_model(small_arch, seed=3)
    second = dsdnas.build_model(small_arch.to_dict(), seed=3)
    other = dsdnas.build_model(small_arch, seed=4)
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert not torch.equal(first.stem[0].weight, other.stem[0].weight)


def test_build_model_leaves_global_rng_alone(small_arch):
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    dsdnas.build_model(small_arch)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("kind", sorted(BLOCK_CLASSES))
@pytest.mark.parametrize("residual", [False, True])
def test_every_block_kind_keeps_size_and_adds_residual(kind, residual):
    block = BLOCK_CLASSES[kind](8, 8, 5, dilation=2, stride=1, residual=residual).eval()
    x = torch.randn(2, 8, 12, 12)
    out = block(x)
    assert out.shape == x.shape
    plain = BLOCK_CLASSES[kind](8, 8, 5, dilation=2, stride=1, residual=False).eval()
    plain.load_state_dict(block.state_dict())
    assert torch.allclose(out, plain(x) + x if residual else plain(x))


def test_separable_depthwise_uses_groups():
    block = BLOCK_CLASSES["separable"](8, 16, 3, dilation=2)
    assert block.depthwise[0].groups == 8 and block.depthwise[0].dilation == (2, 2)
    assert block.pointwise[0].kernel_size == (1, 1)
