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

from envs.contract import Env, Obs, empty_info, flag_spaces
from envs.crafter.tasks import ACHIEVEMENTS
from envs.crafter.world import make_deterministic

ITEMS = ("health", "food", "drink", "energy", "sapling", "wood", "stone", "coal", "iron", "diamond",
         "wood_pickaxe", "stone_pickaxe", "iron_pickaxe", "wood_sword", "stone_sword", "iron_sword")


class CrafterEnv(Env):
    def __init__(self, num_envs: int = 1, seed: int = 0, episodes_per_trial: int = 1, length: int = 10000,
                 size: int = 64):
        import crafter

        if num_envs < 1 or episodes_per_trial < 1 or length < 1 or size < 9:
            raise ValueError(f"invalid crafter env: num_envs={num_envs}, episodes_per_trial={episodes_per_trial}, "
                             f"length={length}, size={size} (all positive, size >= 9)")
        self.num_envs, self.episodes_per_trial, self.length = num_envs, episodes_per_trial, length
        self._envs = [crafter.Env(area=(64, 64), size=(size, size), length=length, reward=True, seed=0)
                      for _ in range(num_envs)]
        for env in self._envs:
            make_deterministic(env)
        self.obs_space = {"image": gymnasium.spaces.Box(0, 255, (size, size, 3), np.uint8),
                          "inventory": gymnasium.spaces.Box(0, 9, (len(ITEMS),), np.int32), **flag_spaces()}
        self.act_space = {"action": gymnasium.spaces.Discrete(17)}
        self.metric_keys = ("reward", "length", "achievements") + tuple(f"achievement_{a}" for a in ACHIEVEMENTS)
        self._seed = 0
        self._trial = np.zeros(num_envs, np.int64)
        self._episode = np.zeros(num_envs, np.int32)
        self._step = np.zeros(num_envs, np.int32)
        self._return = np.zeros(num_envs, np.float64)
        self._images: list[np.ndarray] = [None] * num_envs

    def _world_seed(self, i: int) -> int:
        return int(np.random.SeedSequence([self._seed, i, int(self._trial[i])]).generate_state(1)[0] & 0x7FFFFFFF)

    def _reset_one(self, i: int, new_trial: bool) -> None:
        if new_trial:
            self._trial[i] += 1
            self._episode[i] = 0
        else:
            self._episode[i] += 1
        env = self._envs[i]
        env._seed, env._episode = self._world_seed(i), 0  # crafter seeds the world with (seed, episode)
        self._images[i] = env.reset()
        self._step[i] = 0
        self._return[i] = 0.0

    def reset(self, seed: int | None = None) -> Obs:
        if seed is not None:
            self._seed = int(seed)
        self._trial[:] = -1
        for i in range(self.num_envs):
            self._reset_one(i, new_trial=True)
        ones = np.ones(self.num_envs, bool)
        return self._obs(ones, ~ones, ~ones, ones)

    def step(self, action: dict[str, np.ndarray]) -> tuple[Obs, np.ndarray, np.ndarray, dict[str, Any]]:
        acts = np.asarray(action["action"]).reshape(self.num_envs)
        n = self.num_envs
        reward = np.zeros(n, np.float32)
        first, last, terminal, trial_first = (np.zeros(n, bool) for _ in range(4))
        info = empty_info(self.metric_keys, n)
        for i, env in enumerate(self._envs):
            image, r, done, inner = env.step(int(acts[i]))
            self._images[i], reward[i] = image, r
            self._step[i] += 1
            self._return[i] += r
            if not done:
                continue
            last[i], terminal[i] = True, env._player.health <= 0
            info["reward"][i], info["length"][i] = self._return[i], self._step[i]
            unlocked = [inner["achievements"][a] > 0 for a in ACHIEVEMENTS]
            info["achievements"][i] = sum(unlocked)
            for a, u in zip(ACHIEVEMENTS, unlocked):
                info[f"achievement_{a}"][i] = float(u)
            new_trial = self._episode[i] + 1 >= self.episodes_per_trial
            self._reset_one(i, new_trial)
            first[i], trial_first[i] = True, new_trial
        return self._obs(first, last, terminal, trial_first), reward, last.copy(), info

    def _obs(self, first, last, terminal, trial_first) -> Obs:
        inv = np.array([[env._player.inventory[k] for k in ITEMS] for env in self._envs], np.int32)
        return {"image": np.stack(self._images), "inventory": inv, "is_first": first, "is_last": last,
                "is_terminal": terminal, "is_trial_first": trial_first,
                "episode_index": self._episode.astype(np.int32), "step_index": self._step.copy()}
