"""The planner's skills on MineDojo, with the same interface as envs/crafter/skills.py.

A plan is a list of :class:`SkillCall` (``collect(log)``, ``make(wooden_pickaxe)``, ``place(crafting_table)``).
:class:`Executor` turns each call into MineDojo MultiDiscrete actions (camera bins, attack, the craft
argument, inventory slots) and reports success or the first reason it failed ("no table nearby",
"need wooden_pickaxe", "no log found within 200 steps") with the inventory change and steps spent.
Each decision (where to look, what to press) is a pure function of the observation, tested on sample dicts.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from envs.minedojo import actions as A
from envs.minedojo.observation import inventory_counts, mainhand, nearby_blocks
from envs.skills import SkillCall as BaseSkillCall
from envs.skills import SkillError, SkillLanguage, SkillResult, SkillSpec

__all__ = ["LANGUAGE", "SKILLS", "Executor", "SkillCall", "SkillError", "SkillResult", "SkillSpec"]

# item to collect -> the blocks that drop it
SOURCES = {"log": ("log", "log2"), "cobblestone": ("stone", "cobblestone"), "coal": ("coal_ore",),
           "iron_ore": ("iron_ore",), "dirt": ("dirt", "grass"), "sand": ("sand",), "diamond": ("diamond_ore",)}
PICKAXES = ("wooden_pickaxe", "stone_pickaxe", "iron_pickaxe", "diamond_pickaxe")  # by tier
NEEDS_TIER = {"cobblestone": 0, "coal": 0, "iron_ore": 1, "diamond": 2}  # index into PICKAXES
PLACEABLE = ("crafting_table", "furnace", "cobblestone", "dirt", "planks", "torch")
MAKEABLE = ("planks", "stick", "crafting_table", "wooden_pickaxe", "stone_pickaxe", "furnace", "torch",
            "iron_ingot", "iron_pickaxe", "wooden_axe", "wooden_sword", "stone_sword")
EYE_HEIGHT = 1.62
DIG_STEPS = 120  # attack ticks before giving up on one block (a log by hand takes ~60)

SKILLS: dict[str, SkillSpec] = {
    "go_to": SkillSpec((tuple(sorted({b for v in SOURCES.values() for b in v} | {"crafting_table", "furnace"})),),
                       "explore until block X is next to the agent and look at it"),
    "collect": SkillSpec((tuple(SOURCES),), "find a block that drops X, equip the tool it needs, mine it"),
    "place": SkillSpec((PLACEABLE,), "place X in front of the agent"),
    "make": SkillSpec((MAKEABLE,), "craft or smelt X (a table or furnace must be nearby when the recipe needs one)"),
    "equip": SkillSpec((PICKAXES + ("wooden_axe", "wooden_sword", "stone_sword"),), "hold X in the main hand"),
    "explore": SkillSpec((), "walk and jump forward for a while, turning at obstacles"),
}


class SkillCall(BaseSkillCall):
    """A MineDojo skill call (``collect(log)``), checked against this module's ``SKILLS``."""
    skills = SKILLS


# Calls that take something from the world: tried when a needed item's source is not known yet.
TAKERS = tuple(f"collect({item})" for item in SOURCES)
LANGUAGE = SkillLanguage("Minecraft (MineDojo), a 3D world of blocks", SkillCall, TAKERS)


# --- decisions: observation -> action ------------------------------------------------------------------
def aim(obs: Mapping, offset: tuple[int, int, int]) -> np.ndarray | None:
    """Camera turn that points the crosshair at the block at ``offset`` (ahead, right, up); None if on it."""
    ahead, right, up = offset
    yaw_delta = math.degrees(math.atan2(right, ahead))
    horizontal = max(math.hypot(ahead, right) - 0.5, 0.01)  # to the block's near face
    want_pitch = -math.degrees(math.atan2(up + 0.5 - EYE_HEIGHT, horizontal))  # Minecraft: down is +
    pitch_delta = want_pitch - float(np.asarray(obs["location_stats"]["pitch"]).reshape(-1)[0])
    if abs(yaw_delta) < A.CAMERA_DEGREES / 2 and abs(pitch_delta) < A.CAMERA_DEGREES / 2:
        return None
    return A.move(pitch=pitch_delta, yaw=yaw_delta)


def nearest(obs: Mapping, blocks: tuple[str, ...]) -> tuple[int, int, int] | None:
    near = nearby_blocks(obs)
    found = [near[b] for b in blocks if b in near]
    return min(found, key=lambda o: sum(map(abs, o))) if found else None


def tool_for(item: str, obs: Mapping) -> tuple[np.ndarray | None, str]:
    """(action that equips the needed pickaxe or None if none is needed / already held, failure reason)."""
    if item not in NEEDS_TIER:
        return None, ""
    inv, held = inventory_counts(obs), mainhand(obs)
    usable = PICKAXES[NEEDS_TIER[item]:]
    if held in usable:
        return None, ""
    for pick in usable:
        if inv.get(pick, 0) > 0:
            return A.use_item("equip", pick, obs["inventory"]["name"]), ""
    return None, f"need {usable[0]}"


def make_action(item: str, obs: Mapping, book: A.CraftBook) -> tuple[np.ndarray | None, str]:
    """The craft action for ``item``, or why it cannot be made here and now."""
    station = book.station(item)
    if station and not bool(np.asarray(obs["nearby_tools"][station]).reshape(-1)[0]):
        return None, f"no {'crafting table' if station == 'table' else station} nearby"
    missing = book.missing(item, inventory_counts(obs))
    if missing:
        return None, missing
    return A.craft(item, book), ""


def place_action(item: str, obs: Mapping) -> tuple[np.ndarray | None, str]:
    action = A.use_item("place", item, obs["inventory"]["name"])
    return (None, f"need 1 {item}") if action is None else (action, "")


# --- the executor ------------------------------------------------------------------------------------
class _Stop(Exception):
    """Ends a skill early: out of steps or the episode ended."""


class Executor:
    """Runs skill calls in one world (``MineDojoWorld``); ``search_steps`` bounds the search for a block."""

    def __init__(self, world, search_steps: int = 200):
        self.world = world
        self.search_steps = search_steps
        self._limit = 0
        self._turn = 1

    def run(self, call: SkillCall, max_steps: int) -> SkillResult:
        w = self.world
        inv0, ach0, steps0 = w.inventory, w.achievements, w.steps
        self._limit = steps0 + max(0, max_steps)
        try:
            ok, reason = (False, "the episode is over") if w.done else getattr(self, f"_{call.name}")(*call.args)
        except _Stop as stop:
            ok, reason = False, str(stop)
        inv1 = w.inventory
        delta = {k: inv1.get(k, 0) - inv0.get(k, 0) for k in set(inv0) | set(inv1)
                 if inv1.get(k, 0) != inv0.get(k, 0)}
        unlocked = sorted(k for k in w.achievements if k not in ach0)
        return SkillResult(call, ok, reason, w.steps - steps0, delta, unlocked)

    def _act(self, action: np.ndarray) -> None:
        if self.world.done:
            raise _Stop("the episode is over")
        if self.world.steps >= self._limit:
            raise _Stop("ran out of steps")
        self.world.step(action)

    def _explore_step(self) -> None:
        before = np.asarray(self.world.obs["location_stats"]["pos"], float).copy()
        self._act(A.move(forward=1, jump=True))
        after = np.asarray(self.world.obs["location_stats"]["pos"], float)
        if np.linalg.norm(after - before) < 0.05:  # blocked: turn away, alternating sides
            self._act(A.move(yaw=90 * self._turn))
            self._turn = -self._turn

    def _find(self, blocks: tuple[str, ...]) -> tuple[bool, str]:
        start = self.world.steps
        while nearest(self.world.obs, blocks) is None:
            if self.world.steps - start >= self.search_steps:
                return False, f"no {blocks[0]} found within {self.search_steps} steps"
            self._explore_step()
        for _ in range(4):  # a few camera moves reach any voxel in view
            turn = aim(self.world.obs, nearest(self.world.obs, blocks))
            if turn is None:
                return True, ""
            self._act(turn)
        return nearest(self.world.obs, blocks) is not None, f"lost sight of {blocks[0]}"

    def _go_to(self, block: str):
        return self._find((block,))

    def _collect(self, item: str):
        equip, reason = tool_for(item, self.world.obs)
        if reason:
            return False, reason
        if equip is not None:
            self._act(equip)
        ok, reason = self._find(SOURCES[item])
        if not ok:
            return ok, reason
        before = self.world.inventory.get(item, 0)
        for _ in range(DIG_STEPS):
            self._act(A.function("attack"))
            if self.world.inventory.get(item, 0) > before:
                return True, ""
            if nearest(self.world.obs, SOURCES[item]) is None:
                break
        for _ in range(10):  # the drop may lie a block away: step onto it
            self._act(A.move(forward=1))
            if self.world.inventory.get(item, 0) > before:
                return True, ""
        return False, f"{item} gave nothing"

    def _make(self, item: str):
        action, reason = make_action(item, self.world.obs, self.world.book)
        if action is None:
            return False, reason
        before = self.world.inventory.get(item, 0)
        self._act(action)
        return (True, "") if self.world.inventory.get(item, 0) > before else (False, f"crafting {item} failed")

    def _place(self, item: str):
        action, reason = place_action(item, self.world.obs)
        if action is None:
            return False, reason
        before = self.world.inventory.get(item, 0)
        self._act(A.move(pitch=30))  # look at the ground in front: placing needs a face to attach to
        self._act(action)
        return (True, "") if self.world.inventory.get(item, 0) < before else (False, f"no room to place {item}")

    def _equip(self, item: str):
        action = A.use_item("equip", item, self.world.obs["inventory"]["name"])
        if action is None:
            return False, f"need 1 {item}"
        self._act(action)
        return (True, "") if mainhand(self.world.obs) == item else (False, f"could not equip {item}")

    def _explore(self):
        start = self.world.steps
        while self.world.steps - start < 40:
            self._explore_step()
        return True, ""
