"""The trunk of our default ``cnn`` policy encoder in plain torch, for the peer RL stacks' custom models.

As in embodied/policy/encoders.py and tokens.py: RGB (scaled to [0, 1]) and depth stacked as 4 channels,
strided 3x3 convolutions 16/32/64 with ReLU, average-pooled to 4x4, linear to 128; the goal one-hot and the
GPS through a linear layer of 32 each; all three projected to the 128-wide step token that feeds the
recurrent core (the peers' GRU / LSTM of 128; ours an LSTM of 128 by default, or a GRU). Only torch is imported here.
"""
from __future__ import annotations

import torch
from torch import nn

FEATURES = 128


class HouseTrunk(nn.Module):
    def __init__(self, goal_size: int, gps_size: int = 2, channels: tuple[int, ...] = (16, 32, 64), grid: int = 4,
                 vector_dim: int = 32):
        super().__init__()
        layers, cin = [], 4
        for c in channels:
            layers += [nn.Conv2d(cin, c, 3, 2, 1), nn.ReLU()]
            cin = c
        self.cnn = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(grid), nn.Flatten())
        self.visual = nn.Linear(cin * grid * grid, FEATURES)
        self.goal = nn.Linear(goal_size, vector_dim)
        self.gps = nn.Linear(gps_size, vector_dim)
        self.proj = nn.Linear(FEATURES + 2 * vector_dim, FEATURES, bias=False)

    def forward(self, rgb: torch.Tensor, depth: torch.Tensor, goal: torch.Tensor, gps: torch.Tensor) -> torch.Tensor:
        """``rgb`` (B, 3, H, W) in [0, 1] and ``depth`` (B, 1, H, W), both channels first -> (B, 128)."""
        image = torch.cat([rgb.float(), depth.float()], 1)
        visual = self.visual(self.cnn(image))
        return self.proj(torch.cat([visual, self.goal(goal.float()), self.gps(gps.float())], -1))


def channels_first(x: torch.Tensor, channels: int) -> torch.Tensor:
    """(B, H, W, C) -> (B, C, H, W); an image already channels first is returned as it is."""
    return x if x.shape[1] == channels and x.shape[-1] != channels else x.permute(0, 3, 1, 2)
