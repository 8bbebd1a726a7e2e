"""A whole-episode Crafter agent built from the planner loop, for the Crafter score.

It pursues the achievements in tech-tree order inside one world, one planner attempt per goal (each
with the goal's step budget), and makes a second pass over the goals it missed, until the episode ends
(death or the step cap) or nothing is left to try.
"""
from __future__ import annotations

import dataclasses

from embodied.planner.base import Planner
from embodied.planner.loop import LoopConfig, run_attempt
from embodied.planner.memory import ExperienceMemory
from envs.crafter.tasks import ACHIEVEMENTS, task
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


def play_episode(seed: int, planner: Planner, memory: ExperienceMemory | None, length: int = 10000,
                 passes: int = 2, cfg: LoopConfig | None = None) -> EpisodeResult:
    cfg = cfg or LoopConfig(store="none")
    world = CrafterWorld(seed, length=length)
    for _ in range(passes):
        for goal in CURRICULUM:
            if world.done:
                break
            if world.achievements[goal] == 0:
                run_attempt(task(goal), seed, planner, memory, cfg, world=world)
    unlocked = {a: int(world.achievements[a] > 0) for a in ACHIEVEMENTS}
    return EpisodeResult(seed, world.steps, world.reward, unlocked, world.player.health <= 0)
