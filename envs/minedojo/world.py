"""One MineDojo world (``minedojo.make``) for the planner and RL: latest observation, inventory, steps."""
from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np

from envs.minedojo.actions import CraftBook
from envs.minedojo.observation import inventory_counts
from envs.minedojo.tasks import Task


def make_task(task_id: str, **kwargs: Any) -> Any:
    """``minedojo.make`` that can be called any number of times for the same task.

    minedojo 0.1 pops ``prompt``, ``__cls__`` and ``initial_inventory`` from the module-wide spec of the task
    (minedojo/tasks/__init__.py:484-494@0.1), so its second ``make`` of a task raises ``KeyError: 'prompt'``;
    the spec is put back after each call.
    """
    import minedojo
    from minedojo.tasks import ALL_TASKS_SPECS

    saved = copy.deepcopy(ALL_TASKS_SPECS.get(task_id))
    try:
        return minedojo.make(task_id, **kwargs)
    finally:
        if saved is not None:
            ALL_TASKS_SPECS[task_id] = saved


class MineDojoWorld:
    """A seeded MineDojo task instance; ``world_seed`` fixes the terrain, resets keep it (fast reset)."""

    def __init__(self, task: Task, seed: int, world_seed: int, image_size: tuple[int, int] = (160, 256)):
        self.task = task
        self.world_seed = int(world_seed)
        self._env = make_task(task.name, image_size=tuple(image_size), seed=int(seed),
                              world_seed=str(world_seed), fast_reset=True)
        self.book = CraftBook.from_minedojo()
        self.obs: Mapping[str, Any] = {}
        self.steps = 0
        self.done = False
        self.reward = 0.0
        self._obtained: dict[str, int] = {}

    def reset(self) -> Mapping[str, Any]:
        self.obs = self._env.reset()
        self.steps, self.done, self.reward = 0, False, 0.0
        self._obtained = {}
        self._note_obtained()
        return self.obs

    @property
    def inventory(self) -> dict[str, int]:
        return inventory_counts(self.obs) if self.obs else {}

    @property
    def achievements(self) -> dict[str, int]:
        """Item -> most ever held this episode: MineDojo's analogue of Crafter's achievements (Task.done)."""
        return dict(self._obtained)

    @property
    def success(self) -> bool:
        """MineDojo's own judge: the task's ``is_successful`` (reached through gym 0.21's wrapper chain)."""
        return bool(self._env.is_successful)

    def _note_obtained(self) -> None:
        for item, count in self.inventory.items():
            self._obtained[item] = max(count, self._obtained.get(item, 0))

    def step(self, action: np.ndarray) -> float:
        """Take one MultiDiscrete action; returns its reward. Raises once the episode is over."""
        if self.done:
            raise RuntimeError("the MineDojo episode is over (success, death or step budget)")
        self.obs, reward, done, _ = self._env.step(np.asarray(action, np.int64))
        self.steps += 1
        self.reward += float(reward)
        self._note_obtained()
        self.done = bool(done) or self.success or self.steps >= self.task.budget
        return float(reward)

    def close(self) -> None:
        self._env.close()
