"""Synthetic observations shaped like the env contract, and small policies built from the real configs."""
from __future__ import annotations

from pathlib import Path

import gymnasium
import numpy as np
import torch
from omegaconf import OmegaConf

from embodied.policy import build

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "policy"
HW, GOALS, ACTIONS = 16, 6, 6


def spaces(hw: int = HW):
    obs = {"rgb": gymnasium.spaces.Box(0, 255, (hw, hw, 3), np.uint8),
           "depth": gymnasium.spaces.Box(0, 10, (hw, hw, 1), np.float32),
           "goal": gymnasium.spaces.Box(0, 1, (GOALS,), np.float32),
           "gps": gymnasium.spaces.Box(-100, 100, (2,), np.float32)}
    return obs, {"action": gymnasium.spaces.Discrete(ACTIONS)}


def small_policy(seed: int = 0, redraw: bool = True, **overrides):
    """``relic_small`` shrunk for tests, weights re-drawn large enough that outputs are not all ~0 (``redraw``;
    else as built, e.g. zero output projections where the policy starts them at zero)."""
    cfg = OmegaConf.load(CONFIGS / "relic_small.yaml")
    cfg.merge_with(OmegaConf.create({"d_model": 64, "heads": 2, "head_dim": 16, "mlp_hidden": 96,
                                     "encoder": {"feature_dim": 32, "channels": [8, 16]}, **overrides}))
    torch.manual_seed(seed)
    policy = build(cfg, *spaces())
    if not redraw:
        return policy
    with torch.no_grad():
        for p in policy.parameters():
            if p.dim() >= 2 or p.shape == (cfg.heads, cfg.head_dim):
                p.normal_(0, 1.2 / p.shape[-1] ** 0.5)
            elif p.dim() == 1 and not torch.all(p == 1):
                p.normal_(0, 0.5)
    return policy.eval()


def trial_batch(b: int, t: int, seed: int, max_episode: int = 12) -> dict[str, torch.Tensor]:
    """Envs with episodes of random lengths (so envs are at different steps) and a trial boundary in some."""
    g = torch.Generator().manual_seed(seed)
    is_first = torch.rand(b, t, generator=g) < 1.0 / max_episode
    is_first[:, 0] = True
    trial_first = is_first & (torch.rand(b, t, generator=g) < 0.3)
    trial_first[:, 0] = True
    idx = torch.arange(t).expand(b, t)
    step = idx - torch.where(is_first, idx, 0).cummax(1).values
    episodes = is_first.long().cumsum(1) - 1
    trial_start = torch.where(trial_first, idx, 0).cummax(1).values
    episode = episodes - episodes.gather(1, trial_start)
    return {"rgb": torch.randint(0, 256, (b, t, HW, HW, 3), dtype=torch.uint8, generator=g),
            "depth": torch.rand(b, t, HW, HW, 1, generator=g) * 5,
            "goal": torch.nn.functional.one_hot(torch.randint(0, GOALS, (b, t), generator=g), GOALS).float(),
            "gps": torch.randn(b, t, 2, generator=g),
            "prev_action": torch.randint(0, ACTIONS, (b, t), generator=g),
            "prev_reward": torch.randn(b, t, generator=g),
            "step_index": step, "episode_index": episode, "is_first": is_first, "is_trial_first": trial_first}


def at(inputs: dict[str, torch.Tensor], i) -> dict[str, torch.Tensor]:
    return {k: v[:, i] for k, v in inputs.items()}
