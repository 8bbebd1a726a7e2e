"""A whole-episode agent built from the planner loop (for the Crafter score: envs/crafter/tasks.py CURRICULUM).

It pursues the tasks in order inside one world, one planner attempt per task not yet reached (each with the
task's own step budget), and makes further passes over the tasks it missed, until the episode ends (death or
the step cap) or the passes are used up. ``routine(world)`` runs before each goal: on Crafter, the scripted
night shelter of envs/crafter/planning.py, not something the planner learns.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from embodied.planner.base import Planner
from embodied.planner.loop import LoopConfig, run_attempt
from embodied.planner.memory import ExperienceMemory
from envs.skills import SkillTask, SkillWorld


@dataclasses.dataclass
class EpisodeResult:
    seed: int
    length: int
    reward: float
    achievements: dict[str, int]  # task name -> 1 if reached in the episode
    died: bool


def play_episode(world: SkillWorld, tasks: Sequence[SkillTask], planner: Planner, memory: ExperienceMemory | None,
                 passes: int = 4, cfg: LoopConfig | None = None,
                 routine: Callable[[SkillWorld], None] | None = None) -> EpisodeResult:
    """``passes`` rounds over ``tasks`` in ``world``, until its episode ends."""
    cfg = cfg or LoopConfig(store="none")
    for _ in range(passes):
        for task in tasks:
            if world.done:
                break
            if routine is not None:
                routine(world)
            if world.reached(task) == 0 and not world.done:
                run_attempt(world, task, planner, memory, cfg)
    reached = {task.name: int(world.reached(task) > 0) for task in tasks}
    return EpisodeResult(world.seed, world.steps, world.reward, reached, world.dead)
