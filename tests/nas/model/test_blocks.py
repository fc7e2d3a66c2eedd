import pytest
import torch

from dsdnas.nas.model.blocks import BLOCK_CLASSES


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
