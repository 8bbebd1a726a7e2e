"""Shared builders for the trainer tests: a tiny GRU policy and a filled trial buffer on the line env."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from line_env import LineEnv
from omegaconf import OmegaConf

from embodied.learner.buffer import TrialBuffer
from embodied.learner.ppo import PPOHyper, PPOLearner
from embodied.policy import build

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
TINY_GRU = {"name": "gru", "cell": "gru", "inter_episode": True, "episodic_core": False, "hidden": 16, "layers": 1,
            "token_dim": 16, "max_episode_steps": 32, "obs_keys": None,
            "ignore_keys": [], "vector_dim": 4, "discrete_dim": 4, "action_dim": 4, "reward_input": False,
            "encoder": {"name": "cnn", "feature_dim": 8, "use_depth": False, "channels": [4, 4], "norm": "group",
                        "frozen": False, "weights": None, "grid": 1, "goal": False}}


def tiny_policy(env: LineEnv, seed: int = 0, **overrides):
    torch.manual_seed(seed)
    return build(OmegaConf.create({**TINY_GRU, **overrides}), env.obs_space, env.act_space)


def filled_buffer(num_envs: int = 4, capacity: int = 16, stop: int = 12, seed: int = 0, size: int = 6, **policy):
    """Run the line env with a tiny policy (``policy``: config overrides) for ``stop`` steps; returns
    (env, policy, learner, buffer, pending obs, state). Images of ``size`` >= 8 go through a visual encoder."""
    env = LineEnv(num_envs=num_envs, seed=seed, episodes_per_trial=capacity, max_steps=5, size=size)
    policy = tiny_policy(env, seed, **policy)
    learner = PPOLearner(policy, PPOHyper(epochs=2, minibatches=2, lr=1e-2, warmup_updates=0), capacity + 1)
    buf = TrialBuffer(env.obs_space, num_envs, capacity)
    obs = env.reset(seed=seed)
    state = policy.initial_state(num_envs, capacity + 1)
    gen = torch.Generator().manual_seed(seed)
    rows = slice(0, num_envs)
    for t in range(stop):
        inputs = {k: torch.as_tensor(v) for k, v in obs.items()}
        inputs.update(buf.previous(rows, t))
        action, logp, value, state = learner.act(inputs, state, gen)
        buf.add(rows, t, obs, action, logp, value)
        obs, reward, done, _ = env.step({"action": action.numpy()})
        buf.set_outcome(rows, t, reward, done, obs["is_terminal"])
    return env, policy, learner, buf, obs, state


def np_inputs(obs, previous):
    """Policy inputs from a batch of observations and ``TrialBuffer.previous``."""
    return {**{k: torch.as_tensor(np.asarray(v)) for k, v in obs.items()}, **previous}


def line_train_cfg(cluster: str = "inprocess", **trainer):
    """The repo's trainer/cluster configs with the tiny GRU on the line env; ``trainer`` overrides."""
    cfg = OmegaConf.create({"seed": 0, "name": "test", "runs_dir": "runs", "resume": None, "progress": False,
                            "tensorboard": False})
    cfg.env = {"name": "line", "length": 5, "max_steps": 6}
    cfg.policy = OmegaConf.create(TINY_GRU)
    cfg.trainer = OmegaConf.load(CONFIGS / "trainer" / "ppo_partial.yaml")
    cfg.trainer.update(num_envs=4, rollout_steps=16, update_every=8, total_steps=256, epochs=1, minibatches=1,
                       checkpoint_every=1, torch_threads=1)
    cfg.trainer.update(trainer)
    cfg.cluster = OmegaConf.load(CONFIGS / "cluster" / f"{cluster}.yaml")
    cfg.cluster.num_workers = 1
    return cfg
