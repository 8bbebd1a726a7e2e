"""MineDojo as a planner's world: :class:`MineDojoSkillWorld` implements envs.skills.SkillWorld over one
:class:`MineDojoWorld` (``minedojo.make``; its first reset starts Minecraft) and the MineDojo skill executor."""
from __future__ import annotations

import dataclasses
from typing import Any

from envs.minedojo import tasks as minedojo_tasks
from envs.minedojo.observation import nearby_blocks, vitals
from envs.minedojo.skills import LANGUAGE, Executor, SkillCall
from envs.minedojo.tasks import Task
from envs.minedojo.text_state import describe
from envs.skills import SkillResult, Target

DEFAULT_TASK = "techtree_from_barehand_to_wooden_pickaxe"
SEARCH_STEPS = 200
LOW = {"life": 6.0, "food": 6.0}  # of 20: at or below, a vital is low (Minecraft stops sprinting at food 6)


def task(name: str | None = None, budget: int | None = None) -> Task:
    """The MineDojo task ``name`` (default :data:`DEFAULT_TASK`), with its own step budget or ``budget``."""
    spec = minedojo_tasks.task(name or DEFAULT_TASK)
    return spec if budget is None else dataclasses.replace(spec, budget=int(budget))


class MineDojoSkillWorld:
    """One MineDojo episode of ``task`` behind the planner's world protocol (envs.skills.SkillWorld).

    ``sim`` is the simulator it drives: by default a new :class:`MineDojoWorld` on world seed ``seed``, reset
    here; anything with its interface (``obs``, ``step``, ``inventory``, ``achievements``, ``steps``, ``done``,
    ``reward``, ``success``) will do.
    """
    name = "minedojo"
    language = LANGUAGE

    def __init__(self, task: Task, seed: int, search_steps: int | None = None, sim: Any = None):
        if sim is None:
            from envs.minedojo.world import MineDojoWorld

            sim = MineDojoWorld(task, seed=seed, world_seed=seed)
            sim.reset()
        self.task, self.seed, self.sim = task, int(seed), sim
        self.executor = Executor(sim, SEARCH_STEPS if search_steps is None else search_steps)

    steps = property(lambda self: self.sim.steps)
    reward = property(lambda self: self.sim.reward)
    done = property(lambda self: self.sim.done)

    @property
    def dead(self) -> bool:
        return vitals(self.sim.obs).get("life", 20.0) <= 0

    @property
    def inventory(self) -> dict[str, int]:
        return self.sim.inventory

    def describe(self) -> str:
        return describe(self.sim)

    def nearby(self) -> dict[str, tuple[int, int, int]]:
        return nearby_blocks(self.sim.obs)

    def low(self) -> set[str]:
        now = vitals(self.sim.obs)
        return {k for k, level in LOW.items() if k in now and now[k] <= level}

    def execute(self, call: SkillCall, max_steps: int) -> SkillResult:
        return self.executor.run(call, max_steps)

    def reached(self, task: Task) -> int:
        """1 once the inventory holds the task's item, or (for this world's own task) MineDojo's own judge says so."""
        if task.done(self.sim.inventory):
            return 1
        return int(task.name == self.task.name and bool(self.sim.success))

    def target(self, task: Task) -> Target | None:
        return task.target

    def close(self) -> None:
        self.sim.close()


def make_world(task: Task, seed: int, search_steps: int | None = None) -> MineDojoSkillWorld:
    return MineDojoSkillWorld(task, seed, search_steps)
