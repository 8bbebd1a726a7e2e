"""The MineDojo skill executor end to end on a stand-in block world (block_world.py) that speaks MineDojo's
action and observation formats, so that the skills' loops (search, aim, dig, craft, place, equip) run
without Minecraft."""
from __future__ import annotations

from block_world import BlockWorld
from envs.minedojo.skills import Executor, SkillCall


def run(world, *calls, max_steps=400):
    executor = Executor(world, search_steps=60)
    return [executor.run(SkillCall.parse(c), max_steps=max_steps) for c in calls]


def test_from_bare_hands_to_a_wooden_pickaxe(craft_book):
    trees = {(0, 64, 3): "log", (1, 64, 3): "log", (-1, 64, 3): "log"}
    world = BlockWorld(craft_book, blocks=trees)
    plan = ["collect(log)"] * 3 + ["make(planks)"] * 3 + ["make(crafting_table)", "place(crafting_table)",
                                                          "make(stick)", "make(wooden_pickaxe)"]
    results = run(world, *plan)
    assert [r.reason for r in results] == [""] * len(plan)
    assert all(r.ok for r in results)
    assert results[0].delta == {"log": 1} and results[0].unlocked == ["log"]
    assert results[-1].delta == {"planks": -3, "stick": -2, "wooden_pickaxe": 1}
    assert world.inventory["wooden_pickaxe"] == 1 and world.inventory["planks"] == 3
    assert sum(r.steps for r in results) == world.steps


def test_failures_say_why(craft_book):
    world = BlockWorld(craft_book, inventory=[("planks", 5), ("stick", 2)])
    (no_table,) = run(world, "make(wooden_pickaxe)")
    assert (no_table.ok, no_table.reason, no_table.steps) == (False, "no crafting table nearby", 0)
    (no_pick,) = run(world, "collect(cobblestone)")
    assert no_pick.reason == "need wooden_pickaxe"
    (no_tree,) = run(world, "collect(log)")  # an empty plain: the search gives up
    assert not no_tree.ok and no_tree.reason == "no log found within 60 steps"
    (short,) = run(world, "explore()", max_steps=5)
    assert (short.ok, short.reason, short.steps) == (False, "ran out of steps", 5)


def test_stone_needs_the_pickaxe_equipped(craft_book):
    world = BlockWorld(craft_book, blocks={(0, 64, 1): "stone"}, inventory=[("wooden pickaxe", 1)])
    equip_then_mine = run(world, "collect(cobblestone)")[0]
    assert equip_then_mine.ok and equip_then_mine.delta == {"cobblestone": 1}
    assert world.hand == "wooden pickaxe"
