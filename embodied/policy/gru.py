"""RL²-style GRU baseline: one recurrent state carried across all episodes of a trial.

The in-context-RL baseline against the transformer: the hidden state is reset only when a new trial
(new house) starts, so what the agent learnt about the house in earlier episodes can persist. The step
encoder (images through a small CNN, vector observations, previous action, episode-start flag) is the
same for ``step`` and ``forward`` so both give identical outputs.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import numpy as np
import torch
from torch import nn

from embodied.policy.interface import Batch, Policy

# Bookkeeping keys of the env contract that are not observations of the world.
_NOT_FEATURES = {"is_first", "is_last", "is_terminal", "is_trial_first", "episode_index", "step_index"}


def _image_keys(obs_space: Mapping[str, gymnasium.Space]) -> list[str]:
    return sorted(k for k, s in obs_space.items()
                  if k not in _NOT_FEATURES and isinstance(s, gymnasium.spaces.Box) and len(s.shape) == 3)


def _vector_keys(obs_space: Mapping[str, gymnasium.Space]) -> list[str]:
    return sorted(k for k, s in obs_space.items()
                  if k not in _NOT_FEATURES and isinstance(s, gymnasium.spaces.Box) and len(s.shape) == 1)


class StepEncoder(nn.Module):
    """Maps one step of observations (any leading batch shape) to a feature vector."""

    def __init__(self, obs_space: Mapping[str, gymnasium.Space], num_actions: int, width: int,
                 channels: tuple[int, ...] = (16, 32, 32)):
        super().__init__()
        self.image_keys = _image_keys(obs_space)
        self.vector_keys = _vector_keys(obs_space)
        self.num_actions = num_actions
        # uint8 images are scaled to [0, 1]; float images (depth) by their finite upper bound.
        self.scales = {k: self._scale(obs_space[k]) for k in self.image_keys}
        out = 0
        if self.image_keys:
            h, w = obs_space[self.image_keys[0]].shape[:2]
            for k in self.image_keys:
                if obs_space[k].shape[:2] != (h, w):
                    raise ValueError(f"image observations must share HxW; {k} has {obs_space[k].shape}")
            c_in = sum(obs_space[k].shape[2] for k in self.image_keys)
            layers, c = [], c_in
            for i, c_out in enumerate(channels):
                k, s = (5, 2) if i < len(channels) - 1 else (3, 1)
                layers += [nn.Conv2d(c, c_out, k, s), nn.ReLU()]
                c = c_out
            self.cnn = nn.Sequential(*layers, nn.Flatten())
            with torch.no_grad():
                flat = self.cnn(torch.zeros(1, c_in, h, w)).shape[1]
            self.image_proj = nn.Sequential(nn.Linear(flat, width), nn.ReLU())
            out += width
        vec_dim = sum(int(np.prod(obs_space[k].shape)) for k in self.vector_keys)
        self.vector_proj = nn.Sequential(nn.Linear(vec_dim + num_actions + 1, width), nn.ReLU())
        out += width
        self.out_dim = out

    @staticmethod
    def _scale(space: gymnasium.spaces.Box) -> float:
        if space.dtype == np.uint8:
            return 1 / 255
        high = float(np.max(space.high))
        return 1 / high if np.isfinite(high) and high > 0 else 1.0

    def forward(self, inputs: Batch) -> torch.Tensor:
        lead = inputs["prev_action"].shape
        parts = []
        if self.image_keys:
            img = torch.cat([inputs[k].float() * self.scales[k] for k in self.image_keys], dim=-1)
            img = img.reshape(-1, *img.shape[-3:]).permute(0, 3, 1, 2)
            parts.append(self.image_proj(self.cnn(img)).reshape(*lead, -1))
        vec = [inputs[k].float().reshape(*lead, -1) for k in self.vector_keys]
        vec.append(nn.functional.one_hot(inputs["prev_action"].long(), self.num_actions).float())
        vec.append(inputs["is_first"].float().reshape(*lead, 1))
        parts.append(self.vector_proj(torch.cat(vec, dim=-1)))
        return torch.cat(parts, dim=-1)


class GRUPolicy(Policy):
    """Encoder → GRU → actor/critic heads; state = GRU hidden ``(layers, B, hidden)``."""

    def __init__(self, obs_space: Mapping[str, gymnasium.Space], act_space: Mapping[str, gymnasium.Space],
                 hidden: int = 128, layers: int = 1, encoder_width: int = 128,
                 channels: tuple[int, ...] = (16, 32, 32), **_: Any):
        super().__init__()
        self.num_actions = int(act_space["action"].n)
        self.encoder = StepEncoder(obs_space, self.num_actions, encoder_width, tuple(channels))
        self.gru = nn.GRU(self.encoder.out_dim, hidden, num_layers=layers, batch_first=True)
        self.actor = nn.Linear(hidden, self.num_actions)
        self.critic = nn.Linear(hidden, 1)
        nn.init.orthogonal_(self.actor.weight, 0.01)
        nn.init.zeros_(self.actor.bias)

    def initial_state(self, batch_size: int, max_steps: int, device: torch.device | str = "cpu") -> torch.Tensor:
        return torch.zeros(self.gru.num_layers, batch_size, self.gru.hidden_size, device=device)

    def step(self, inputs: Batch, state: torch.Tensor, reset: torch.Tensor | None = None):
        if reset is not None:
            state = state * (~reset.bool()).float().view(1, -1, 1)
        out, state = self.gru(self.encoder(inputs).unsqueeze(1), state)
        return self.actor(out[:, 0]), self.critic(out[:, 0]).squeeze(-1), state

    def forward(self, inputs: Batch, lengths: torch.Tensor | None = None):
        logits, values, _ = self.prefill(inputs, lengths)
        return logits, values

    def prefill(self, inputs: Batch, lengths: torch.Tensor | None = None):
        """``forward`` that also returns the state after the last of the ``T`` steps.

        The learner uses it to refresh the recurrent state with new weights after an update. Steps past
        ``lengths`` cannot change earlier outputs (the pass is causal) but do enter the returned state.
        """
        x = self.encoder(inputs)
        b, t = x.shape[:2]
        # The state restarts where a new trial begins inside the sequence (rare: rollouts start trials).
        trial = inputs.get("is_trial_first")
        cuts = [0] + ([] if trial is None else
                      [int(i) for i in torch.nonzero(trial[:, 1:].any(0)).flatten() + 1]) + [t]
        h = self.initial_state(b, t, x.device)
        outs = []
        for start, stop in zip(cuts[:-1], cuts[1:]):
            if start > 0:
                h = h * (~trial[:, start].bool()).float().view(1, -1, 1)
            out, h = self.gru(x[:, start:stop], h)
            outs.append(out)
        out = torch.cat(outs, dim=1)
        return self.actor(out), self.critic(out).squeeze(-1), h
