"""DigitNet: a small CNN found by dsdnas 0.1.0.

Architecture: stem_k3_c16_s1 sep_k5_d2_c32_s2 std_k3_d1_c32_s1_res_hardswish
Search: trial 7 of study golden
Dataset: mnist-sample

Input: float images in [0, 1] shaped N x 1 x 28 x 28; normalization happens inside forward.

Usage:
    from model import load
    model = load()  # reads weights.safetensors next to this file
    logits = model(images)
"""

from pathlib import Path

import torch
from torch import nn

CLASS_NAMES = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
INPUT_SHAPE = (1, 28, 28)
MEAN = (0.1307,)  # per channel, of the training images in [0, 1]
STD = (0.3081,)


class ConvBNAct(nn.Sequential):
    """Conv2d (no bias, padding d*(k-1)/2), BatchNorm2d, activation."""

    def __init__(self, c_in, c_out, kernel, stride=1, dilation=1, groups=1, act=nn.ReLU):
        padding = dilation * (kernel - 1) // 2
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel, stride, padding, dilation, groups, bias=False),
            nn.BatchNorm2d(c_out),
            act(),
        )


class StandardBlock(nn.Module):
    """k x k conv with dilation, BatchNorm, activation; optional residual add."""

    def __init__(self, c_in, c_out, kernel, dilation, stride, residual, act):
        super().__init__()
        self.conv = ConvBNAct(c_in, c_out, kernel, stride, dilation, act=act)
        self.residual = residual

    def forward(self, x):
        out = self.conv(x)
        return out + x if self.residual else out


class SeparableBlock(nn.Module):
    """Depthwise k x k conv with dilation, then pointwise 1x1; optional residual add."""

    def __init__(self, c_in, c_out, kernel, dilation, stride, residual, act):
        super().__init__()
        self.depthwise = ConvBNAct(c_in, c_in, kernel, stride, dilation, c_in, act=act)
        self.pointwise = ConvBNAct(c_in, c_out, 1, act=act)
        self.residual = residual

    def forward(self, x):
        out = self.pointwise(self.depthwise(x))
        return out + x if self.residual else out


class DigitNet(nn.Module):
    """stem_k3_c16_s1 sep_k5_d2_c32_s2 std_k3_d1_c32_s1_res_hardswish"""

    def __init__(self):
        super().__init__()
        shape = (1, len(MEAN), 1, 1)
        self.register_buffer("mean", torch.tensor(MEAN).view(shape), persistent=False)
        self.register_buffer("std", torch.tensor(STD).view(shape), persistent=False)
        self.stem = ConvBNAct(1, 16, 3, 1, act=nn.ReLU)
        self.blocks = nn.Sequential(
            SeparableBlock(16, 32, kernel=5, dilation=2, stride=2, residual=False, act=nn.ReLU),
            StandardBlock(32, 32, kernel=3, dilation=1, stride=1, residual=True, act=nn.Hardswish),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.1)
        self.classifier = nn.Linear(32, 10)

    def forward(self, x):
        x = (x - self.mean) / self.std
        x = self.blocks(self.stem(x))
        return self.classifier(self.dropout(self.pool(x).flatten(1)))


def load(weights_path=None, device="cpu") -> DigitNet:
    """The model with its trained weights, in eval mode."""
    from safetensors.torch import load_file

    path = weights_path or Path(__file__).with_name("weights.safetensors")
    model = DigitNet()
    model.load_state_dict(load_file(str(path)))
    return model.to(device).eval()
