"""One token per step, assembled from whatever the env's observation space holds.

Each part of the observation goes through the layer its space calls for, and the parts are concatenated
and projected to the policy's width, plus a learned embedding of the step index within the episode:
- images (``H x W x C`` Boxes: ``rgb``, ``depth``, Crafter's ``image``) -> the visual encoder, or its
  precomputed features (key ``visual_features``) when the encoder is frozen;
- other Boxes (goal one-hot, GPS, inventory counts, ...) -> a linear layer each, flattened, as floats;
- ``Discrete`` / ``MultiDiscrete`` -> an embedding per component, concatenated;
- the previous action (always) and, with ``reward_input``, the previous reward (ReLIC feeds it on its
  own tasks: in-context RL has to see what its earlier actions earned).
The contract's bookkeeping keys (flags, ``episode_index``, ``step_index``) are not features.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import numpy as np
import torch
from torch import nn

from embodied.config import ConfigError
from embodied.policy.encoders import FEATURE_KEY, VisualEncoder
from embodied.policy.settings import TokenSettings

CONTRACT_KEYS = ("is_first", "is_last", "is_terminal", "is_trial_first", "episode_index", "step_index")
VECTOR_SPACES = (gymnasium.spaces.Box, gymnasium.spaces.MultiBinary)


def _is_image(space: gymnasium.Space) -> bool:
    return isinstance(space, gymnasium.spaces.Box) and len(space.shape) == 3 and min(space.shape[:2]) >= 8


def input_keys(s: TokenSettings, obs_space: Mapping[str, gymnasium.Space]) -> list[str]:
    """The observation keys the token is built from, sorted; unknown names in the config are errors."""
    available = sorted(k for k in obs_space if k not in CONTRACT_KEYS)
    for option, names in (("policy.obs_keys", s.obs_keys or []), ("policy.ignore_keys", s.ignore_keys)):
        unknown = [k for k in names if k not in available]
        if unknown:
            raise ConfigError(f"{option} names {unknown}, not in the env's observation space; its keys are {available}")
    keys = [k for k in (s.obs_keys if s.obs_keys is not None else available) if k not in s.ignore_keys]
    if not s.encoder.use_depth:  # depth-like images (float, one channel) stay out of the encoder
        keys = [k for k in keys if not (_is_image(obs_space[k]) and obs_space[k].dtype != np.uint8
                                        and obs_space[k].shape[-1] == 1)]
    for k in keys:
        if not isinstance(obs_space[k], (*VECTOR_SPACES, gymnasium.spaces.Discrete, gymnasium.spaces.MultiDiscrete)):
            raise ConfigError(f"observation {k!r} has space {obs_space[k]!r}, which the policy cannot read (Box, "
                              "MultiBinary, Discrete, MultiDiscrete); leave it out with policy.ignore_keys")
    return sorted(keys)


def image_order(keys: list[str], obs_space: Mapping[str, gymnasium.Space]) -> dict[str, int]:
    """Image keys -> channels, colour (uint8) images first, then float ones (depth), each group by name."""
    images = [k for k in keys if _is_image(obs_space[k])]
    images.sort(key=lambda k: (obs_space[k].dtype != np.uint8, k))
    sizes = {obs_space[k].shape[:2] for k in images}
    if len(sizes) > 1:
        raise ConfigError(f"the image observations {images} differ in size {sorted(sizes)}; the encoder stacks "
                          "them, so leave all but one size out with policy.ignore_keys")
    return {k: int(obs_space[k].shape[-1]) for k in images}


class StepTokenizer(nn.Module):
    """Works on any leading dims: ``(B, ...)`` for ``step``, ``(B, T, ...)`` for ``forward``.

    The previous action is embedded as ``prev_action + 1``, with index 0 meaning "no previous action"
    at the first step of a trial (``is_trial_first``), so action 0 stays distinguishable; the previous
    reward is 0 there too.
    """

    def __init__(self, s: TokenSettings, obs_space: Mapping[str, gymnasium.Space], num_actions: int, out_dim: int):
        super().__init__()
        keys = input_keys(s, obs_space)
        images = image_order(keys, obs_space)
        enc = s.encoder
        goal_size = 0
        if enc.goal and images:  # (without images there is no encoder to condition)
            if "goal" not in keys:
                raise ConfigError("policy.encoder.goal: true (FiLM goal conditioning) needs a 'goal' observation; "
                                  f"the policy reads {keys}")
            goal_size = int(np.prod(obs_space["goal"].shape))
        self.encoder = VisualEncoder(enc.name, enc.feature_dim, images, enc.channels, enc.norm, enc.frozen,
                                     enc.weights, enc.grid, goal_size) if images else None
        self.vectors = [k for k in keys if k not in images and isinstance(obs_space[k], VECTOR_SPACES)]
        self.discretes = [k for k in keys if k not in images and k not in self.vectors]
        self.inputs = nn.ModuleDict()
        width = enc.feature_dim if images else 0
        for k in keys:
            space = obs_space[k]
            if k in self.vectors:
                self.inputs[k] = nn.Linear(int(np.prod(space.shape)), s.vector_dim)
                width += s.vector_dim
            elif k in self.discretes:
                sizes = [int(space.n)] if isinstance(space, gymnasium.spaces.Discrete) else \
                    [int(n) for n in np.asarray(space.nvec).ravel()]
                self.register_buffer(f"offsets_{k}", torch.tensor(np.cumsum([0, *sizes[:-1]]), dtype=torch.long),
                                     persistent=False)
                self.inputs[k] = nn.Embedding(sum(sizes), s.discrete_dim)
                width += s.discrete_dim * len(sizes)
        self.action = nn.Embedding(num_actions + 1, s.action_dim)
        width += s.action_dim
        self.reward = nn.Linear(1, s.vector_dim) if s.reward_input else None
        width += s.vector_dim if s.reward_input else 0
        self.proj = nn.Linear(width, out_dim, bias=False)
        self.step_embed = nn.Embedding(s.max_episode_steps, out_dim)
        self.max_episode_steps = s.max_episode_steps
        self.keys = keys

    def visual(self, inputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The encoder's features, or the precomputed ones (``FEATURE_KEY``); precomputed features for only the first
        ``k`` of ``(B, T)`` steps (``trainer.encoder_grad=window``) are a constant prefix, the encoder runs on the rest.
        The image keys then hold all ``T`` steps' frames or only the last ``T - k`` (the learner leaves out the ones it
        has features of, which a minibatch would otherwise copy)."""
        dtype = self.proj.weight.dtype
        if FEATURE_KEY not in inputs:
            return self.encoder(inputs, inputs.get(self.encoder.goal_key))
        features = inputs[FEATURE_KEY].to(dtype)
        lead = inputs["step_index"].shape
        if features.shape[:-1] == lead:
            return features
        k = features.shape[1] if features.dim() == 3 and len(lead) == 2 and features.shape[0] == lead[0] else -1
        if not 0 <= k < lead[1]:
            raise ValueError(f"{FEATURE_KEY} of shape {tuple(features.shape)} is neither the features of the {tuple(lead)} "
                             "steps nor of a prefix of their sequences")
        frames = {key: inputs[key].shape[1] for key in self.encoder.image_keys if key in inputs}
        if any(n not in (lead[1], lead[1] - k) for n in frames.values()):
            raise ValueError(f"with {FEATURE_KEY} for the first {k} of {lead[1]} steps the image keys hold {frames} "
                             f"steps; expected {lead[1]} or {lead[1] - k}")
        rest = {key: v if frames.get(key) == lead[1] - k else v[:, k:]
                for key, v in inputs.items() if key in self.encoder.image_keys or key == self.encoder.goal_key}
        return torch.cat([features, self.encoder(rest, rest.get(self.encoder.goal_key)).to(dtype)], dim=1)

    def forward(self, inputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        needed = ["prev_action", "step_index", *self.vectors, *self.discretes,
                  *(["prev_reward"] if self.reward is not None else [])]
        missing = [k for k in needed if k not in inputs]
        if missing:
            raise KeyError(f"policy inputs lack {missing}; got {sorted(inputs)}")
        dtype = self.proj.weight.dtype
        lead = inputs["step_index"].shape
        first = inputs["is_trial_first"].bool() if "is_trial_first" in inputs else None
        parts = [self.visual(inputs)] if self.encoder is not None else []
        for k in self.vectors:
            parts.append(self.inputs[k](inputs[k].reshape(*lead, -1).to(dtype)))
        for k in self.discretes:
            idx = inputs[k].long().reshape(*lead, -1) + getattr(self, f"offsets_{k}")
            parts.append(self.inputs[k](idx).flatten(-2))
        act = inputs["prev_action"].long() + 1
        if first is not None:
            act = torch.where(first, 0, act)
        parts.append(self.action(act))
        if self.reward is not None:
            reward = inputs["prev_reward"].to(dtype)
            if first is not None:
                reward = torch.where(first, 0, reward)
            parts.append(self.reward(reward.unsqueeze(-1)))
        step = inputs["step_index"].long().clamp(0, self.max_episode_steps - 1)
        return self.proj(torch.cat(parts, dim=-1)) + self.step_embed(step)

    def _load_from_state_dict(self, state: dict[str, Any], prefix: str, *args: Any) -> None:
        """Checkpoints from before the observation-space tokenizer named the house's layers directly."""
        for old in ("goal", "gps"):
            for p in ("weight", "bias"):
                if f"{prefix}{old}.{p}" in state:
                    state[f"{prefix}inputs.{old}.{p}"] = state.pop(f"{prefix}{old}.{p}")
        super()._load_from_state_dict(state, prefix, *args)
