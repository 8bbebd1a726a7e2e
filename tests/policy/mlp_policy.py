"""A policy written from the ``Policy`` ABC alone: a memoryless MLP over whatever the observation space holds.

Nothing else in the platform knows it; ``policy.name=mlp_policy:MLPPolicy`` (with this folder importable)
trains, evaluates and replays it. Images are flattened and scaled, Discrete values one-hot encoded.
"""
from __future__ import annotations

import gymnasium
import numpy as np
import torch
from torch import nn

from embodied.policy.interface import Policy


class MLPPolicy(Policy):
    def __init__(self, cfg, obs_space: dict[str, gymnasium.Space], act_space: dict[str, gymnasium.Space]):
        super().__init__()
        self.spaces = {k: s for k, s in sorted(obs_space.items()) if isinstance(s, (gymnasium.spaces.Box,
                                                                                     gymnasium.spaces.Discrete))}
        size = sum(s.n if isinstance(s, gymnasium.spaces.Discrete) else int(np.prod(s.shape))
                   for s in self.spaces.values())
        width = int(cfg.get("mlp_width", 64))
        self.num_actions = int(act_space["action"].n)
        self.trunk = nn.Sequential(nn.Linear(size, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh())
        self.actor, self.critic = nn.Linear(width, self.num_actions), nn.Linear(width, 1)

    def _features(self, inputs: dict[str, torch.Tensor], lead: int) -> torch.Tensor:
        parts = []
        for key, space in self.spaces.items():
            x = inputs[key]
            if isinstance(space, gymnasium.spaces.Discrete):
                x = nn.functional.one_hot(x.long(), space.n)
            elif x.dtype == torch.uint8:
                x = x / 255.0
            parts.append(x.float().reshape(*x.shape[:lead], -1))
        return torch.cat(parts, -1)

    def forward(self, inputs, lengths=None, context=None):
        h = self.trunk(self._features(inputs, 2))
        return self.actor(h), self.critic(h).squeeze(-1)

    def step(self, inputs, state, reset=None):
        h = self.trunk(self._features(inputs, 1))
        return self.actor(h), self.critic(h).squeeze(-1), state

    def initial_state(self, batch_size, max_steps, device="cpu"):
        return None

    def prefill(self, inputs, lengths=None, max_steps=None):
        with torch.no_grad():
            logits, values = self(inputs)
        return logits, values, None

    def select_state(self, state, rows):
        return None
