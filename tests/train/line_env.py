"""A tiny env implementing envs.contract.Env, for unit tests of the learner and rollout (not a benchmark).

A line of ``length`` cells; the agent starts in the middle, a target cell is drawn per trial. The
observation shows the agent's cell in a small image and a one-hot hint (target left / right / here).
Actions: 0 stop, 1 left, 2 right. Stopping on the target is a success (+1); a wrong stop ends the
episode; ``max_steps`` truncates it. Deterministic given the seed.
"""
from __future__ import annotations

import gymnasium
import numpy as np

from envs.contract import Env, empty_info, flag_spaces


class LineEnv(Env):
    metric_keys = ("success", "episode_length")

    def __init__(self, num_envs: int = 2, seed: int = 0, episodes_per_trial: int = 4, length: int = 7,
                 max_steps: int = 12, size: int = 6, **_):
        self.num_envs, self.episodes_per_trial = num_envs, episodes_per_trial
        self.length, self.max_steps, self.size = length, max_steps, size
        self.obs_space = {"rgb": gymnasium.spaces.Box(0, 255, (size, size, 3), np.uint8),
                          "goal": gymnasium.spaces.Box(0, 1, (3,), np.float32),
                          "gps": gymnasium.spaces.Box(-np.inf, np.inf, (2,), np.float32), **flag_spaces()}
        self.act_space = {"action": gymnasium.spaces.Discrete(3)}
        self.rng = np.random.default_rng(seed)
        self.pos = np.zeros(num_envs, np.int64)
        self.target = np.zeros(num_envs, np.int64)
        self.t = np.zeros(num_envs, np.int64)
        self.episode = np.zeros(num_envs, np.int64)

    def _obs(self, first, last, terminal, trial_first):
        n = self.num_envs
        rgb = np.zeros((n, self.size, self.size, 3), np.uint8)
        rgb[np.arange(n), self.pos % self.size, self.pos // self.size, 0] = 255
        diff = np.sign(self.target - self.pos)
        goal = np.zeros((n, 3), np.float32)
        goal[np.arange(n), diff + 1] = 1
        gps = np.stack([self.pos - self.length // 2, np.zeros(n)], -1).astype(np.float32)
        return {"rgb": rgb, "goal": goal, "gps": gps, "is_first": first, "is_last": last,
                "is_terminal": terminal, "is_trial_first": trial_first,
                "episode_index": self.episode.astype(np.int32), "step_index": self.t.astype(np.int32)}

    def reset(self, seed=None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        n = self.num_envs
        self.target = self.rng.integers(0, self.length, n)
        self.pos[:] = self.length // 2
        self.t[:] = 0
        self.episode[:] = 0
        ones = np.ones(n, bool)
        return self._obs(ones, ~ones, ~ones, ones.copy())

    def step(self, action):
        a = np.asarray(action["action"])
        info = empty_info(self.metric_keys, self.num_envs)
        self.t += 1
        stop = a == 0
        self.pos = np.clip(self.pos + (a == 2) - (a == 1), 0, self.length - 1)
        success = stop & (self.pos == self.target)
        reward = np.where(success, 1.0, -0.01).astype(np.float32)
        terminal = stop
        last = terminal | (self.t >= self.max_steps)
        info["success"][last] = success[last]
        info["episode_length"][last] = self.t[last]
        trial_first = np.zeros(self.num_envs, bool)
        for i in np.flatnonzero(last):
            self.episode[i] += 1
            self.t[i] = 0
            self.pos[i] = self.length // 2
            if self.episode[i] >= self.episodes_per_trial:
                self.episode[i] = 0
                self.target[i] = self.rng.integers(0, self.length)
                trial_first[i] = True
        return self._obs(last.copy(), last, terminal, trial_first), reward, last.copy(), info


    def oracle_action(self) -> np.ndarray:
        """Stop on the target, else step towards it."""
        return np.where(self.pos == self.target, 0, np.where(self.target < self.pos, 1, 2)).astype(np.int64)


def make(**cfg) -> LineEnv:
    cfg.pop("name", None)
    return LineEnv(**cfg)
