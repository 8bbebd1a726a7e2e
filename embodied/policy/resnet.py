"""ResNet-18 (He et al. 2016) written with torch.nn, for RGB(-D) frames of any size.

GroupNorm instead of BatchNorm by default: RL batches are correlated and small per env, which makes
batch statistics unreliable (the habitat / ReLIC navigation encoders make the same choice).
"""
from __future__ import annotations

import torch
from torch import nn


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "group":
        return nn.GroupNorm(max(1, channels // 16), channels)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    raise ValueError(f"encoder.norm={kind!r} is not allowed; allowed values: ['group', 'batch']")


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, norm: str):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.n1 = _norm(norm, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.n2 = _norm(norm, cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), _norm(norm, cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.n1(self.conv1(x)))
        y = self.n2(self.conv2(y))
        return torch.relu(y + (x if self.down is None else self.down(x)))


class ResNet18(nn.Module):
    """Stem, four stages of two basic blocks (64, 128, 256, 512 channels), global average pool."""

    out_dim = 512

    def __init__(self, in_channels: int = 3, norm: str = "group", width: int = 64):
        super().__init__()
        widths = [width, 2 * width, 4 * width, 8 * width]
        self.out_dim = widths[-1]
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 7, 2, 3, bias=False), _norm(norm, width),
                                  nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        blocks, cin = [], width
        for i, w in enumerate(widths):
            blocks += [BasicBlock(cin, w, 1 if i == 0 else 2, norm), BasicBlock(w, w, 1, norm)]
            cin = w
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.stem(x)).mean((2, 3))
