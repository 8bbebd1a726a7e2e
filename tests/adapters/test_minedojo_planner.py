"""The planner loop drives MineDojo through the same world protocol as Crafter (envs/skills.py SkillWorld):
MineDojoSkillWorld over the stand-in block world (block_world.py), which speaks MineDojo's action and
observation formats, so the planner, the executor and the text state run without Minecraft."""
from __future__ import annotations

import json

from block_world import BlockWorld
from embodied.planner.embedders import HashEmbedder
from embodied.planner.llm import LLMPlanner
from embodied.planner.loop import LoopConfig, run_attempt
from embodied.planner.memory import ExperienceMemory
from embodied.planner.symbolic import SymbolicPlanner
from envs.minedojo.planning import MineDojoSkillWorld, task
from envs.skills import SkillWorld

TREES = {(0, 64, 3): "log", (1, 64, 3): "log", (-1, 64, 3): "log"}
PICKAXE_PLAN = (["collect(log)"] * 3 + ["make(planks)"] * 3 +
                ["make(crafting_table)", "place(crafting_table)", "make(stick)", "make(wooden_pickaxe)"])


def world(craft_book, name, **kwargs):
    return MineDojoSkillWorld(task(name), seed=7, search_steps=60, sim=BlockWorld(craft_book, **kwargs))


def test_an_llm_plan_in_minedojo_skills_reaches_the_wooden_pickaxe(craft_book, tmp_path):
    w = world(craft_book, "techtree_from_barehand_to_wooden_pickaxe", blocks=TREES)
    assert isinstance(w, SkillWorld)
    seen = []

    def chat(messages):
        seen.append(messages)
        return json.dumps({"plan": PICKAXE_PLAN, "insights": ["a pickaxe needs a table"]})
    memory = ExperienceMemory(tmp_path / "m.db", HashEmbedder(64))
    result = run_attempt(w, task("techtree_from_barehand_to_wooden_pickaxe"), LLMPlanner(chat, "scripted"), memory)
    assert result.success and result.plans == 1 and result.outcome.startswith("success")
    assert [r["skill"] for r in result.records] == PICKAXE_PLAN and all(r["ok"] for r in result.records)
    assert w.inventory["wooden_pickaxe"] == 1 and result.steps == w.steps
    system, user = seen[0][0]["content"], seen[0][1]["content"]
    assert "Minecraft (MineDojo)" in system and "Crafter" not in system
    assert "- equip(X): hold X in the main hand" in system  # MineDojo's skills, not Crafter's
    assert "Goal: obtain 1 wooden_pickaxe" in user and "in hand" in user and "crafting stations nearby: none" in user
    stored = next(memory.iter())
    assert stored.task == "techtree_from_barehand_to_wooden_pickaxe" and stored.metadata["world"] == "minedojo"


def test_a_plan_in_crafter_skills_is_sent_back_to_the_model(craft_book):
    w = world(craft_book, "harvest_1_log", blocks=TREES)
    replies = iter(['{"plan": ["collect(tree)"]}', '{"plan": ["collect(log)"]}'])
    result = run_attempt(w, task("harvest_1_log"), LLMPlanner(lambda m: next(replies), "scripted"), None)
    assert result.success and [r["skill"] for r in result.records] == ["collect(log)"]


def test_the_symbolic_planner_finds_logs_on_its_own(craft_book):
    w = world(craft_book, "harvest_1_log", blocks=TREES)
    result = run_attempt(w, task("harvest_1_log"), SymbolicPlanner(), None, LoopConfig(store="none"))
    assert result.success and result.records[-1] == {**result.records[-1], "skill": "collect(log)", "ok": True}
    assert w.reached(task("harvest_1_log")) == 1 and w.reached(task("harvest_1_planks")) == 0


def test_an_attempt_that_cannot_succeed_says_why(craft_book):
    w = world(craft_book, "harvest_1_log")  # an empty plain: no tree anywhere
    result = run_attempt(w, task("harvest_1_log", budget=150), SymbolicPlanner(), None, LoopConfig(store="none"))
    assert not result.success and result.steps <= 150
    assert "no log found within 60 steps" in result.outcome or "ran out of steps" in result.outcome
