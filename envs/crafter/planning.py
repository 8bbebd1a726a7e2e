"""Crafter as a planner's world: :class:`CrafterSkillWorld` implements envs.skills.SkillWorld over one seeded
:class:`CrafterWorld` and its skill :class:`Executor`; :func:`night_shelter` is the scripted dusk routine of
the whole-episode agent (embodied/planner/agent.py)."""
from __future__ import annotations

import dataclasses

from envs.crafter import tasks as crafter_tasks
from envs.crafter.skills import LANGUAGE, Executor, SkillCall
from envs.crafter.tasks import Task
from envs.crafter.text_state import describe, nearby
from envs.crafter.world import CrafterWorld
from envs.skills import SkillResult, Target

DEFAULT_TASK = "make_stone_pickaxe"
LOW = 2  # food, drink or energy at or below this (of 9) is low
VITALS = ("food", "drink", "energy")
SEARCH_STEPS = 80


def task(name: str | None = None, budget: int | None = None) -> Task:
    """The task ``name`` (a Crafter achievement; default :data:`DEFAULT_TASK`), with its own step budget or
    ``budget``."""
    spec = crafter_tasks.task(name or DEFAULT_TASK)
    return spec if budget is None else dataclasses.replace(spec, budget=int(budget))


class CrafterSkillWorld:
    """One seeded Crafter episode behind the planner's world protocol (envs.skills.SkillWorld)."""
    name = "crafter"
    language = LANGUAGE

    def __init__(self, seed: int, length: int = 10000, search_steps: int | None = None):
        self.sim = CrafterWorld(seed, length=length)
        self.executor = Executor(self.sim, SEARCH_STEPS if search_steps is None else search_steps)

    seed = property(lambda self: self.sim.seed)
    steps = property(lambda self: self.sim.steps)
    reward = property(lambda self: self.sim.reward)
    done = property(lambda self: self.sim.done)

    @property
    def dead(self) -> bool:
        return self.sim.player.health <= 0

    @property
    def inventory(self) -> dict[str, int]:
        return self.sim.inventory

    def describe(self) -> str:
        return describe(self.sim)

    def nearby(self) -> dict[str, tuple[int, int]]:
        return nearby(self.sim)

    def low(self) -> set[str]:
        inv = self.sim.inventory
        return {v for v in VITALS if inv[v] <= LOW}

    def execute(self, call: SkillCall, max_steps: int) -> SkillResult:
        return self.executor.run(call, max_steps)

    def reached(self, task: Task) -> int:
        return self.sim.achievements.get(task.name, 0)

    def target(self, task: Task) -> Target | None:
        return crafter_tasks.target(task.name, self.sim.inventory)

    def close(self) -> None:
        pass


def curriculum(goal_steps: int = 150) -> list[Task]:
    """Every achievement in tech-tree order (tasks.CURRICULUM), ``goal_steps`` steps per attempt: the goals of
    the whole-episode agent (embodied/planner/agent.py) for the Crafter score."""
    return [Task(name, goal_steps) for name in crafter_tasks.CURRICULUM]


def make_world(task: Task, seed: int, search_steps: int | None = None) -> CrafterSkillWorld:
    """A fresh world of seed ``seed`` for an attempt at ``task`` (any Crafter task: the world does not depend on it)."""
    return CrafterSkillWorld(seed, search_steps=search_steps)


def night_shelter(max_wait: int = 150):
    """At dusk: dig a shelter, sleep, and stay in until daylight, once per day-night cycle (a fixed routine,
    not something the planner learns). Returns the routine, to be called between goals."""
    sheltered: set[int] = set()

    def routine(world: CrafterSkillWorld) -> None:
        sim = world.sim
        night = sim.steps // 300
        if sim.daylight >= 0.4 or night in sheltered or sim.done:
            return
        sheltered.add(night)
        if not world.execute(SkillCall("shelter"), 80).ok:
            return
        world.execute(SkillCall("sleep"), 300)
        for _ in range(max_wait):
            if sim.done or sim.daylight >= 0.5:
                break
            sim.step("noop")

    return routine
