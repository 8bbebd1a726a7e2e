"""Visual encoders: frames (``rgb`` uint8 HxWx3, optional ``depth`` HxWx1) -> one feature vector per step.

``cnn`` (default) is small and fast on a CPU; ``resnet18`` is the larger option. With ``frozen: true`` the
encoder's weights (optionally loaded from ``weights``, a state-dict file) never train, so rollouts can
store its features (key ``visual_features``) instead of frames and the policy skips the encoder.
"""
from __future__ import annotations

import torch
from torch import nn

from embodied.policy.resnet import ResNet18

ENCODERS = ("cnn", "resnet18")
FEATURE_KEY = "visual_features"


class SmallCNN(nn.Module):
    """Strided 3x3 convolutions with ReLU, then a global average pool."""

    def __init__(self, in_channels: int, channels: list[int]):
        super().__init__()
        layers, cin = [], in_channels
        for c in channels:
            layers += [nn.Conv2d(cin, c, 3, 2, 1), nn.ReLU()]
            cin = c
        self.net = nn.Sequential(*layers)
        self.out_dim = cin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).mean((2, 3))


class VisualEncoder(nn.Module):
    """Backbone plus a linear map to ``feature_dim``; accepts any leading batch dims."""

    def __init__(self, name: str, feature_dim: int, use_depth: bool, channels: list[int] | None = None,
                 norm: str = "group", frozen: bool = False, weights: str | None = None):
        super().__init__()
        if name not in ENCODERS:
            raise ValueError(f"encoder.name={name!r} is not allowed; allowed values: {list(ENCODERS)}")
        self.use_depth = use_depth
        cin = 4 if use_depth else 3
        self.backbone = SmallCNN(cin, list(channels or [16, 32, 64])) if name == "cnn" else ResNet18(cin, norm)
        self.proj = nn.Linear(self.backbone.out_dim, feature_dim)
        self.feature_dim = feature_dim
        self.frozen = frozen
        if weights:
            self.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        if frozen:
            self.requires_grad_(False)

    def train(self, mode: bool = True) -> VisualEncoder:
        return super().train(mode and not self.frozen)

    def forward(self, rgb: torch.Tensor, depth: torch.Tensor | None = None) -> torch.Tensor:
        lead = rgb.shape[:-3]
        x = rgb.reshape(-1, *rgb.shape[-3:]).float().div(255.0)
        if self.use_depth:
            if depth is None:
                raise KeyError("the encoder uses depth (encoder.use_depth: true) but the inputs have no 'depth'")
            x = torch.cat([x, depth.reshape(-1, *depth.shape[-3:]).float()], dim=-1)
        x = x.permute(0, 3, 1, 2).to(self.proj.weight.dtype)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            feats = self.proj(self.backbone(x))
        return feats.reshape(*lead, self.feature_dim)
