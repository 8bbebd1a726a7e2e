"""Crafter behind the batched env contract (envs/contract.py), for RL agents.

Observations: ``image`` (64x64x3 uint8), ``inventory`` (16 counts, Crafter's item order) plus the contract
flags. One world per trial by default; with ``episodes_per_trial > 1`` every episode of a trial replays
the same world (Crafter has no goal or start pose to vary, so the scene is what carries over).
Metrics at episode end: reward, length, number of achievements and one 0/1 entry per achievement,
from which the Crafter score of a run follows (``envs.crafter.tasks.crafter_score``).
"""
from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

from envs.crafter.tasks import ACHIEVEMENTS
from envs.crafter.world import make_deterministic
from envs.serial import SerialEnv, Transition

ITEMS = ("health", "food", "drink", "energy", "sapling", "wood", "stone", "coal", "iron", "diamond",
         "wood_pickaxe", "stone_pickaxe", "iron_pickaxe", "wood_sword", "stone_sword", "iron_sword")


class CrafterInstance:
    """One Crafter world as an ``envs.serial.Episodic``: a trial draws the world, each episode replays it."""

    def __init__(self, size: int, length: int):
        import crafter

        self.env = crafter.Env(area=(64, 64), size=(size, size), length=length, reward=True, seed=0)
        make_deterministic(self.env)
        self.world_seed, self.steps, self.ret = 0, 0, 0.0

    def new_trial(self, rng: np.random.Generator) -> None:
        self.world_seed = int(rng.integers(0, 2**31 - 1))

    def new_episode(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        self.env._seed, self.env._episode = self.world_seed, 0  # crafter seeds the world with (seed, episode)
        self.steps, self.ret = 0, 0.0
        return self._obs(self.env.reset())

    def step(self, action: Any) -> Transition:
        image, reward, done, inner = self.env.step(int(action))
        self.steps += 1
        self.ret += reward
        if not done:
            return Transition(self._obs(image), reward)
        unlocked = {a: float(inner["achievements"][a] > 0) for a in ACHIEVEMENTS}
        metrics = {"reward": self.ret, "length": self.steps, "achievements": sum(unlocked.values()),
                   **{f"achievement_{a}": u for a, u in unlocked.items()}}
        died = self.env._player.health <= 0
        return Transition(self._obs(image), reward, terminal=died, truncated=not died, metrics=metrics)

    def _obs(self, image: np.ndarray) -> dict[str, np.ndarray]:
        return {"image": image, "inventory": np.array([self.env._player.inventory[k] for k in ITEMS], np.int32)}

    def close(self) -> None:
        """Nothing to release: the world lives in this process."""


def make(num_envs: int = 1, seed: int = 0, episodes_per_trial: int = 1, length: int = 10000,
         size: int = 64) -> SerialEnv:
    """``num_envs`` Crafter worlds behind the batched contract."""
    if num_envs < 1 or episodes_per_trial < 1 or length < 1 or size < 9:
        raise ValueError(f"invalid crafter env: num_envs={num_envs}, episodes_per_trial={episodes_per_trial}, "
                         f"length={length}, size={size} (all positive, size >= 9)")
    obs_space = {"image": gymnasium.spaces.Box(0, 255, (size, size, 3), np.uint8),
                 "inventory": gymnasium.spaces.Box(0, 9, (len(ITEMS),), np.int32)}
    metric_keys = ("reward", "length", "achievements") + tuple(f"achievement_{a}" for a in ACHIEVEMENTS)
    return SerialEnv([CrafterInstance(size, length) for _ in range(num_envs)], obs_space,
                     {"action": gymnasium.spaces.Discrete(17)}, metric_keys, episodes_per_trial, seed)
