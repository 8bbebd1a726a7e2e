"""The skill executor and text state on fixed world seeds."""
from __future__ import annotations

import re

import pytest

from envs.crafter.navigation import route_to_face
from envs.crafter.skills import Executor, SkillCall, SkillError
from envs.crafter.text_state import describe, nearby
from envs.crafter.world import CrafterWorld


def run(world, text, steps=200, search=80):
    return Executor(world, search).run(SkillCall.parse(text), steps)


SEQUENCE = ["collect(stone)", "make(wood_pickaxe)", "place(table)", "collect(tree)", "collect(tree)", "place(table)",
            "collect(tree)", "make(wood_pickaxe)", "make(stone_pickaxe)", "collect(stone)", "collect(tree)",
            "go_to(table)", "make(stone_pickaxe)"]


@pytest.fixture(scope="module")
def tech_tree():
    """World seed 1 walked up the tech tree to a stone pickaxe, with each skill's result."""
    w = CrafterWorld(1)
    return w, [run(w, call) for call in SEQUENCE]


def test_failures_say_what_is_missing(tech_tree):
    _, res = tech_tree
    assert res[0].reason == "need 1 wood_pickaxe" and res[0].steps > 0  # walked to the stone first
    assert res[1].reason == "no table nearby" and res[1].steps == 0
    assert re.fullmatch(r"need \d+ wood", res[2].reason)
    assert re.fullmatch(r"need 1 (wood|stone)", res[8].reason)
    assert all(not r.ok and r.delta == {} for r in (res[1], res[2], res[8]))


def test_successes_report_inventory_change_and_achievements(tech_tree):
    w, res = tech_tree
    assert res[3].ok and res[3].delta.get("wood") == 1 and "collect_wood" in res[3].unlocked
    assert res[5].ok and res[5].unlocked == ["place_table"] and res[5].delta["wood"] < 0
    assert res[7].ok and res[7].delta["wood_pickaxe"] == 1 and res[7].unlocked == ["make_wood_pickaxe"]
    assert res[9].ok and res[9].delta["stone"] >= 1
    assert res[12].ok and w.inventory["stone_pickaxe"] == 1 and w.achievements["make_stone_pickaxe"] == 1
    assert sum(r.steps for r in res) == w.steps


def test_search_limits_step_budget_and_sleep_rule():
    w = CrafterWorld(3)
    r = run(w, "go_to(diamond)", search=15)
    assert not r.ok and r.reason == "no diamond found within 15 steps" and 15 <= r.steps <= 23
    r = run(w, "collect(iron)", steps=5)
    assert not r.ok and r.reason == "ran out of steps" and r.steps == 5
    assert run(w, "sleep()").reason == "not tired (energy 9/9)"


def test_go_to_ends_facing_the_target_on_several_seeds():
    for seed in range(4):
        w = CrafterWorld(seed)
        for target in ("tree", "water", "grass"):
            r = run(w, f"go_to({target})")
            if r.ok:
                front = (w.pos[0] + w.facing[0], w.pos[1] + w.facing[1])
                assert w.material(front) == target
                assert route_to_face(w, [front]) == []


def test_text_state_names_vitals_inventory_and_nearest_things():
    w = CrafterWorld(3)
    text = describe(w)
    assert "vitals: health 9/9, food 9/9, drink 9/9, energy 9/9" in text and "inventory: nothing" in text
    near = nearby(w)
    dx, dy = near["tree"]
    assert w.material((w.pos[0] + dx, w.pos[1] + dy)) == "tree"
    assert f"tree {abs(dy)} {'down' if dy > 0 else 'up'}" in text
    run(w, "collect(tree)")
    assert "inventory: wood 1" in describe(w)


def test_skill_calls_are_validated():
    with pytest.raises(SkillError, match="unknown skill"):
        SkillCall.parse("teleport(home)")
    with pytest.raises(SkillError, match="not allowed for place"):
        SkillCall.parse("place(diamond)")


def test_cached_worlds_replay_exactly_like_freshly_generated_ones():
    from envs.crafter import world as world_module

    def play(w):
        ex = Executor(w)
        results = [ex.run(SkillCall.parse(c), 300).to_dict() for c in
                   ("collect(tree)", "explore()", "eat(cow)", "drink()", "explore()")]
        return results, w.steps, w.pos, w.inventory
    world_module._PRISTINE.clear()
    fresh = play(CrafterWorld(5))
    assert play(CrafterWorld(5)) == fresh  # from the cache
    world_module._PRISTINE.clear()
    assert play(CrafterWorld(5)) == fresh  # generated again


def test_shelter_walls_the_player_into_rock(tech_tree):
    w, _ = tech_tree  # holds a wood pickaxe and stone
    r = run(w, "shelter()")
    assert r.ok, r.reason
    (x, y), inside = w.pos, set()
    frontier = [(x, y)]
    while frontier:  # the walkable cells reachable from the player: just the two tunnel cells
        c = frontier.pop()
        inside.add(c)
        for d in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            n = (c[0] + d[0], c[1] + d[1])
            if n not in inside and w.material(n) in ("grass", "sand", "path"):
                frontier.append(n)
    assert len(inside) == 2 and all(w.material(c) == "path" for c in inside)
