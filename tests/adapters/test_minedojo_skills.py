"""Skill calls and the skill-to-action decisions on sample MineDojo observations."""
from __future__ import annotations

import pytest

from envs.minedojo import skills as S
from envs.minedojo.tasks import TASK_SET, task


def test_skill_calls_parse_and_validate():
    assert S.SkillCall.parse(" collect( log ) ") == S.SkillCall("collect", ("log",))
    assert str(S.SkillCall.parse("make('wooden_pickaxe')")) == "make(wooden_pickaxe)"
    assert S.SkillCall.parse("explore()").args == ()
    for bad, match in [("collect log", "not a skill call"), ("mine(log)", "unknown skill"),
                       ("collect(log, 2)", "takes 1 argument"), ("make(diamond_block)", "not allowed")]:
        with pytest.raises(S.SkillError, match=match):
            S.SkillCall.parse(bad)


def test_aim_turns_toward_the_block_and_stops_when_on_it(make_obs):
    level = make_obs(pitch=0.0)
    turn = S.aim(level, (0, 1, 1))  # one block to the right at eye level: turn 90 degrees right
    assert turn[4] == 12 + 6 and turn[5] == 0
    look_down = S.aim(level, (1, 0, 0))  # the block ahead at the feet: its near face is ~66 degrees down
    assert look_down[3] == 12 + 4 and look_down[4] == 12
    assert S.aim(make_obs(pitch=60.0), (1, 0, 0)) is None
    behind = S.aim(level, (-1, 0, 1))
    assert behind[4] in (0, 24)  # half a turn


def test_collecting_stone_needs_a_pickaxe(make_obs, craft_book):
    assert S.tool_for("log", make_obs()) == (None, "")
    assert S.tool_for("cobblestone", make_obs()) == (None, "need wooden_pickaxe")
    assert S.tool_for("iron_ore", make_obs(inventory=[("wooden pickaxe", 1)])) == (None, "need stone_pickaxe")
    equip, reason = S.tool_for("cobblestone", make_obs(inventory=[("log", 1), ("stone pickaxe", 1)]))
    assert reason == "" and equip[[5, 7]].tolist() == [5, 1]
    assert S.tool_for("cobblestone", make_obs(mainhand="wooden pickaxe")) == (None, "")


def test_make_checks_station_and_ingredients(make_obs, craft_book):
    rich = [("planks", 3), ("stick", 2)]
    assert S.make_action("wooden_pickaxe", make_obs(inventory=rich), craft_book) == (None, "no crafting table nearby")
    action, reason = S.make_action("wooden_pickaxe", make_obs(inventory=[("planks", 1)], table=True), craft_book)
    assert action is None and reason == "need 2 more planks and 2 more stick"
    action, reason = S.make_action("wooden_pickaxe", make_obs(inventory=rich, table=True), craft_book)
    assert reason == "" and action[[5, 6]].tolist() == [4, 219]
    action, _ = S.make_action("planks", make_obs(inventory=[("log", 1)]), craft_book)  # by hand
    assert action[[5, 6]].tolist() == [4, 29]


def test_place_uses_the_items_slot(make_obs):
    assert S.place_action("crafting_table", make_obs()) == (None, "need 1 crafting_table")
    action, _ = S.place_action("crafting_table", make_obs(inventory=[("dirt", 5), ("crafting table", 1)]))
    assert action[[5, 7]].tolist() == [6, 1]


def test_nearest_source_block(make_obs):
    obs = make_obs(blocks={(1, 1, 1): "log2", (0, 0, 1): "log"})
    assert S.nearest(obs, S.SOURCES["log"]) == (1, 0, 0)
    assert S.nearest(obs, S.SOURCES["iron_ore"]) is None


def test_task_set_is_the_tech_tree():
    assert TASK_SET[0] == "harvest_1_log" and "techtree_from_barehand_to_stone_pickaxe" in TASK_SET
    t = task("techtree_from_barehand_to_wooden_pickaxe")
    assert t.goal == "obtain 1 wooden_pickaxe"
    assert t.done({"wooden_pickaxe": 1}) and not t.done({"planks": 9})
    with pytest.raises(ValueError, match="is not one of .*minedojo is not installed"):
        task("harvest_milk")  # other ids are checked against minedojo's own list (tests/real_packages)
