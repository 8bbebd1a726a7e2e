"""One MineDojo world as an ``Episodic`` for RL: a trial is one world seed, its episodes fast resets in it."""
from __future__ import annotations

from typing import Any

import numpy as np

from envs.serial import Transition
from envs.minedojo.actions import rl_action
from envs.minedojo.observation import convert
from envs.minedojo.tasks import Task
from envs.minedojo.world import MineDojoWorld

METRIC_KEYS = ("success", "episode_length", "episode_return")


def episode_metrics(success: bool, steps: int, episode_return: float) -> dict[str, float]:
    return {"success": float(success), "episode_length": float(steps), "episode_return": float(episode_return)}


class MineDojoRL:
    """RL view of a task: discrete actions (actions.RL_ACTIONS), rgb + compact vector observations."""

    def __init__(self, task: Task, seed: int, image_size: tuple[int, int]):
        self.task = task
        self.seed = int(seed)
        self.image_size = image_size
        self.world: MineDojoWorld | None = None
        self._origin = np.zeros(3)

    def new_trial(self, rng: np.random.Generator) -> None:
        # A new world means a new Minecraft server (about a minute): only at trial boundaries.
        if self.world is not None:
            self.world.close()
        self.world = MineDojoWorld(self.task, seed=self.seed, world_seed=int(rng.integers(2**31)),
                                   image_size=self.image_size)

    def new_episode(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        obs = self.world.reset()
        self._origin = np.asarray(obs["location_stats"]["pos"], np.float64).reshape(3)
        return convert(obs, self._origin)

    def step(self, action: Any) -> Transition:
        w = self.world
        reward = w.step(rl_action(action, w.obs["inventory"]["name"], w.book, w.obs.get("masks")))
        obs = convert(w.obs, self._origin)
        if not w.done:
            return Transition(obs, reward)
        metrics = episode_metrics(w.success, w.steps, w.reward)
        return Transition(obs, reward, terminal=w.steps < self.task.budget or w.success,
                          truncated=w.steps >= self.task.budget and not w.success, metrics=metrics)

    def close(self) -> None:
        if self.world is not None:
            self.world.close()
