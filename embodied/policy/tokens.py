"""One token per step: concat(visual feature, goal, GPS, previous action) -> d_model, plus a learned
embedding of the step index within the episode."""
from __future__ import annotations

import torch
from torch import nn

from embodied.policy.encoders import FEATURE_KEY, VisualEncoder


class StepTokenizer(nn.Module):
    """Works on any leading dims: ``(B, ...)`` for ``step``, ``(B, T, ...)`` for ``forward``.

    The previous action is embedded as ``prev_action + 1``, with index 0 meaning "no previous action"
    at the first step of a trial (``is_trial_first``), so action 0 stays distinguishable.
    """

    def __init__(self, encoder: VisualEncoder, goal_size: int, num_actions: int, d_model: int,
                 goal_dim: int, gps_dim: int, action_dim: int, max_episode_steps: int):
        super().__init__()
        self.encoder = encoder
        self.goal = nn.Linear(goal_size, goal_dim)
        self.gps = nn.Linear(2, gps_dim)
        self.action = nn.Embedding(num_actions + 1, action_dim)
        self.proj = nn.Linear(encoder.feature_dim + goal_dim + gps_dim + action_dim, d_model, bias=False)
        self.step_embed = nn.Embedding(max_episode_steps, d_model)
        self.max_episode_steps = max_episode_steps

    def visual(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        if FEATURE_KEY in inputs:
            return inputs[FEATURE_KEY].to(self.proj.weight.dtype)
        if "rgb" not in inputs:
            raise KeyError(f"policy inputs need 'rgb' (or precomputed '{FEATURE_KEY}'); got {sorted(inputs)}")
        return self.encoder(inputs["rgb"], inputs.get("depth"), inputs.get("goal"))

    def forward(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        for key in ("goal", "gps", "prev_action", "step_index"):
            if key not in inputs:
                raise KeyError(f"policy inputs lack {key!r}; got {sorted(inputs)}")
        dtype = self.proj.weight.dtype
        act = inputs["prev_action"].long() + 1
        if "is_trial_first" in inputs:
            act = torch.where(inputs["is_trial_first"].bool(), 0, act)
        feats = torch.cat([self.visual(inputs), self.goal(inputs["goal"].to(dtype)),
                           self.gps(inputs["gps"].to(dtype)), self.action(act)], dim=-1)
        step = inputs["step_index"].long().clamp(0, self.max_episode_steps - 1)
        return self.proj(feats) + self.step_embed(step)
