"""Visual encoders: the image keys of an observation -> one feature vector per step.

The images (``H x W x C`` Boxes, e.g. the house's ``rgb`` uint8 and ``depth`` float) are stacked along
channels, uint8 ones scaled to [0, 1]. ``cnn`` (default) is small and fast on a CPU; ``resnet18`` is the
larger option. With ``frozen: true`` the encoder's weights (optionally loaded from ``weights``, a state-dict
file or the name of one shipped in ``embodied/policy/weights/``, e.g. the house-pretrained ``house_cnn32``
made by ``embodied pretrain``) never train, so rollouts store its features (key ``visual_features``)
instead of frames and the policy skips it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from embodied.policy.resnet import ResNet18

ENCODERS = ("cnn", "resnet18")
FEATURE_KEY = "visual_features"
WEIGHTS_DIR = Path(__file__).parent / "weights"


def weights_path(weights: str) -> Path:
    """``weights`` as a file: an existing path, else a file shipped in ``WEIGHTS_DIR`` (name without ``.pt``)."""
    path = Path(weights).expanduser()
    if path.is_file():
        return path
    shipped = WEIGHTS_DIR / f"{weights}.pt"
    if shipped.is_file():
        return shipped
    names = sorted(p.stem for p in WEIGHTS_DIR.glob("*.pt"))
    raise FileNotFoundError(f"policy.encoder.weights={weights!r}: no such file, nor a shipped weights name {names}")


class SmallCNN(nn.Module):
    """Strided 3x3 convolutions with ReLU, then an average pool to ``grid`` x ``grid`` cells, flattened.

    ``grid`` 1 is a global average; a larger grid keeps where things are in the image (left or right).
    With ``goal_size`` > 0 every layer is FiLM-conditioned on the goal (a per-channel scale and shift from
    the one-hot goal, identity at initialisation), so the features can be about the object being sought.
    """

    def __init__(self, in_channels: int, channels: list[int], grid: int = 1, goal_size: int = 0):
        super().__init__()
        layers, cin = [], in_channels
        for c in channels:
            layers += [nn.Conv2d(cin, c, 3, 2, 1), nn.ReLU()]
            cin = c
        self.net = nn.Sequential(*layers)
        self.channels = list(channels)
        self.film = nn.Linear(goal_size, 2 * sum(channels)) if goal_size else None
        if self.film is not None:
            nn.init.zeros_(self.film.weight)
            nn.init.zeros_(self.film.bias)
        self.pool = nn.AdaptiveAvgPool2d(grid)
        self.grid = grid
        self.out_dim = cin * grid * grid

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        """The adaptive pool, as a plain average pool (or nothing) where the map divides into the grid: the same
        averages, without the adaptive pool's slow CPU backward (3% of a trained encoder's update at 32 px, where
        the map is already 4 x 4)."""
        h, w = x.shape[-2:]
        if h % self.grid or w % self.grid:
            return self.pool(x)
        return x if (h, w) == (self.grid, self.grid) else nn.functional.avg_pool2d(x, (h // self.grid, w // self.grid))

    def forward(self, x: torch.Tensor, goal: torch.Tensor | None = None) -> torch.Tensor:
        if self.film is None:
            return self._pool(self.net(x)).flatten(1)
        if goal is None:
            raise KeyError("the encoder is goal-conditioned (encoder.goal: true) but the inputs have no 'goal'")
        film = self.film(goal.to(x.dtype)).split([c for c in self.channels for _ in (0, 1)], -1)
        for i in range(len(self.channels)):
            x = self.net[2 * i + 1](self.net[2 * i](x))
            x = x * (1 + film[2 * i][:, :, None, None]) + film[2 * i + 1][:, :, None, None]
        return self._pool(x).flatten(1)


class VisualEncoder(nn.Module):
    """Backbone plus a linear map to ``feature_dim``; accepts any leading batch dims."""

    def __init__(self, name: str, feature_dim: int, image_keys: dict[str, int], channels: list[int] | None = None,
                 norm: str = "group", frozen: bool = False, weights: str | None = None, grid: int = 1,
                 goal_size: int = 0, goal_key: str = "goal"):
        super().__init__()
        if name not in ENCODERS:
            raise ValueError(f"encoder.name={name!r} is not allowed; allowed values: {list(ENCODERS)}")
        if goal_size and name != "cnn":
            raise ValueError(f"encoder.goal: true (FiLM goal conditioning) is for encoder.name=cnn, not {name!r}")
        if not image_keys:
            raise ValueError("a visual encoder needs at least one image key")
        self.image_keys = dict(image_keys)  # key -> channels, in stacking order
        self.goal_conditioned, self.goal_key = bool(goal_size), goal_key
        self.args = {"name": name, "feature_dim": feature_dim, "image_keys": self.image_keys, "channels": channels,
                     "norm": norm, "grid": grid, "goal_size": goal_size, "goal_key": goal_key}
        cin = sum(self.image_keys.values())
        self.backbone = SmallCNN(cin, list(channels or [16, 32, 64]), grid, goal_size) if name == "cnn" \
            else ResNet18(cin, norm)
        self.proj = nn.Linear(self.backbone.out_dim, feature_dim)
        self.feature_dim = feature_dim
        self.frozen = frozen
        if weights:
            self.load_weights(weights)
        if frozen:
            self.requires_grad_(False)

    def load_weights(self, weights: str) -> None:
        """Load a state-dict file; an error names the file and the settings it does not fit."""
        path = weights_path(weights)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            self.load_state_dict(state)
        except (RuntimeError, KeyError, TypeError, AttributeError) as e:
            raise ValueError(f"encoder weights {path} do not fit policy.encoder (name, channels, grid, feature_dim, "
                             f"use_depth / image keys {list(self.image_keys)}, goal must be those it was trained with): {str(e).splitlines()[0]}") from e

    def replica(self) -> dict[str, Any]:
        """What ``from_replica`` needs to rebuild this encoder, frozen, elsewhere (e.g. in an env worker)."""
        return {"args": dict(self.args), "state": {k: v.cpu() for k, v in self.state_dict().items()}}

    @classmethod
    def from_replica(cls, replica: dict[str, Any]) -> VisualEncoder:
        encoder = cls(**replica["args"], frozen=True)
        encoder.load_state_dict(replica["state"])
        return encoder.eval()

    @torch.no_grad()
    def features(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Features (N, feature_dim) float32 of a batch of observations (NumPy in, NumPy out)."""
        goal = torch.as_tensor(obs[self.goal_key]) if self.goal_conditioned else None
        return self({k: torch.as_tensor(obs[k]) for k in self.image_keys}, goal).float().numpy()

    def train(self, mode: bool = True) -> VisualEncoder:
        return super().train(mode and not self.frozen)

    def forward(self, images: dict[str, torch.Tensor], goal: torch.Tensor | None = None) -> torch.Tensor:
        """Features ``(..., feature_dim)`` of ``images`` (key -> ``(..., H, W, C)``); ``goal`` (..., G) is used
        only by a goal-conditioned encoder."""
        missing = [k for k in self.image_keys if k not in images]
        if missing:
            raise KeyError(f"the visual encoder needs the image keys {missing}; got {sorted(images)}")
        first = images[next(iter(self.image_keys))]
        lead = first.shape[:-3]
        parts = []
        for k in self.image_keys:
            img = images[k].reshape(-1, *images[k].shape[-3:])
            parts.append(img.float().div(255.0) if img.dtype == torch.uint8 else img.float())
        x = torch.cat(parts, dim=-1) if len(parts) > 1 else parts[0]
        x = x.permute(0, 3, 1, 2).to(self.proj.weight.dtype)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            if self.goal_conditioned:
                if goal is None:
                    raise KeyError(f"the encoder is goal-conditioned (encoder.goal: true) but the inputs have no "
                                   f"{self.goal_key!r}")
                feats = self.proj(self.backbone(x, goal.reshape(-1, goal.shape[-1])))
            else:
                feats = self.proj(self.backbone(x))
        return feats.reshape(*lead, self.feature_dim)
