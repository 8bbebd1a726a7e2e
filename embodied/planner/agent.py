"""A whole-episode Crafter agent built from the planner loop, for the Crafter score.

It pursues the achievements in tech-tree order inside one world, one planner attempt per goal (each
with a capped step budget), and makes further passes over the goals it missed, until the episode ends
(death or the step cap) or the passes are used up. At dusk it digs into rock, seals the entrance and
sleeps: a fixed routine, not something the planner learns.
"""
from __future__ import annotations

import dataclasses

from embodied.planner.base import Planner
from embodied.planner.loop import LoopConfig, run_attempt
from embodied.planner.memory import ExperienceMemory
from envs.crafter.skills import Executor, SkillCall
from envs.crafter.tasks import ACHIEVEMENTS, Task
from envs.crafter.world import CrafterWorld

CURRICULUM = (
    "collect_wood", "place_table", "make_wood_pickaxe", "make_wood_sword", "collect_drink", "collect_sapling",
    "place_plant", "eat_cow", "collect_stone", "place_stone", "make_stone_pickaxe", "make_stone_sword",
    "collect_coal", "place_furnace", "defeat_zombie", "wake_up", "collect_iron", "make_iron_pickaxe",
    "make_iron_sword", "collect_diamond", "defeat_skeleton", "eat_plant")
assert sorted(CURRICULUM) == sorted(ACHIEVEMENTS)


@dataclasses.dataclass
class EpisodeResult:
    seed: int
    length: int
    reward: float
    achievements: dict[str, int]  # 1 if unlocked in the episode
    died: bool


def _night(world: CrafterWorld, sheltered: set[int], max_wait: int = 150) -> None:
    """At dusk: dig a shelter, sleep, and stay in until daylight (once per day-night cycle)."""
    night = world.steps // 300
    if world.daylight >= 0.4 or night in sheltered or world.done:
        return
    sheltered.add(night)
    executor = Executor(world)
    if not executor.run(SkillCall("shelter"), 80).ok:
        return
    executor.run(SkillCall("sleep"), 300)
    for _ in range(max_wait):
        if world.done or world.daylight >= 0.5:
            break
        world.step("noop")


def play_episode(seed: int, planner: Planner, memory: ExperienceMemory | None, length: int = 10000,
                 passes: int = 4, goal_steps: int = 150, cfg: LoopConfig | None = None) -> EpisodeResult:
    """``passes`` rounds over the curriculum; each goal gets ``goal_steps`` per round."""
    cfg = cfg or LoopConfig(store="none")
    world = CrafterWorld(seed, length=length)
    sheltered: set[int] = set()
    for _ in range(passes):
        for goal in CURRICULUM:
            if world.done:
                break
            _night(world, sheltered)
            if world.achievements[goal] == 0 and not world.done:
                run_attempt(Task(goal, goal_steps), seed, planner, memory, cfg, world=world)
    unlocked = {a: int(world.achievements[a] > 0) for a in ACHIEVEMENTS}
    return EpisodeResult(seed, world.steps, world.reward, unlocked, world.player.health <= 0)
