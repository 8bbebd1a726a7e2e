"""The planner loop, the symbolic planner's learning, and the plan / memory commands end to end."""
from __future__ import annotations

import json

import pytest

from embodied.cli import main as cli
from embodied.planner.base import PlanContext, PlannerError
from embodied.planner.embedders import HashEmbedder
from embodied.planner.knowledge import Knowledge
from embodied.planner.llm import LLMPlanner
from embodied.planner.loop import LoopConfig, run_attempt
from embodied.planner.memory import ExperienceMemory
from embodied.planner.symbolic import SymbolicPlanner
from envs.crafter.planning import CrafterSkillWorld
from envs.crafter.skills import LANGUAGE
from envs.crafter.tasks import TASKS, Task, target


def rec(skill, ok=True, reason="", delta=None):
    return {"skill": skill, "ok": ok, "reason": reason, "steps": 3, "delta": delta or {}, "unlocked": []}


def test_knowledge_learns_sources_needs_and_fixes_from_records():
    k = Knowledge().learn([
        rec("collect(stone)", False, "need 1 wood_pickaxe"),
        rec("make(wood_pickaxe)", False, "no table nearby"),
        rec("place(table)", True, delta={"wood": -2}),
        rec("collect(tree)", True, delta={"wood": 1, "drink": -1}),
        rec("go_to(iron)", True, delta={"stone": 3}),  # picked up on the way: not what go_to is for
        rec("collect(iron)", False, "no iron found within 80 steps"),
        rec("explore()", True),
        rec("collect(iron)", True, delta={"iron": 1, "stone": 1}),
        rec("collect(stone)", True, delta={"stone": 1}),
    ])
    assert k.source("wood") == "collect(tree)" and k.source("drink") is None
    assert k.source("stone") == "collect(stone)"  # always yields stone; collect(iron) only on the way
    assert k.requirements("collect(stone)") == ({"wood_pickaxe": 1}, set())
    assert k.requirements("make(wood_pickaxe)") == ({}, {"table"})
    assert k.requirements("place(table)") == ({"wood": 2}, set())
    assert k.fix("no iron found within 120 steps") == "explore()"
    assert "collect(tree) gives wood" in k.insights()


def test_symbolic_planner_chains_a_full_plan_from_learned_facts():
    records = [rec("make(wood_pickaxe)", False, "no table nearby"), rec("place(table)", False, "need 2 wood"),
               rec("collect(tree)", True, delta={"wood": 1}), rec("make(wood_pickaxe)", False, "need 1 wood")]

    class Past:
        plan, success, task = records, False, "make_wood_pickaxe"
    goal = target("make_wood_pickaxe", {"wood": 0})
    ctx = PlanContext("make_wood_pickaxe", "", "", {"wood": 0}, {}, [Past()], [], LANGUAGE, goal)
    plan = [str(c) for c in SymbolicPlanner().propose(ctx).calls]
    # the table uses up the wood gathered for the pickaxe: gather again and walk back to the table
    assert plan == ["collect(tree)", "collect(tree)", "place(table)", "collect(tree)", "go_to(table)",
                    "make(wood_pickaxe)"]
    # without memory the same planner knows no recipe: it can only try the goal skill itself
    bare = PlanContext("make_wood_pickaxe", "", "", {"wood": 0}, {}, [], [], LANGUAGE, goal)
    assert [str(c) for c in SymbolicPlanner().propose(bare).calls] == ["make(wood_pickaxe)"]


def test_memory_makes_later_attempts_on_new_worlds_more_efficient(tmp_path):
    task = TASKS["make_stone_pickaxe"]
    mem = ExperienceMemory(tmp_path / "m.db", HashEmbedder(128))
    practice = [run_attempt(CrafterSkillWorld(100 + s), task, SymbolicPlanner(), mem) for s in range(2)]
    assert len(mem) == 2 and all(e.plan for e in mem.iter())
    frozen = LoopConfig(store="none")
    seeds = range(4)
    without = [run_attempt(CrafterSkillWorld(s), task, SymbolicPlanner(), None, frozen) for s in seeds]
    with_mem = [run_attempt(CrafterSkillWorld(s), task, SymbolicPlanner(), mem, frozen) for s in seeds]
    assert len(mem) == 2  # store=none leaves the memory as it was
    assert sum(r.success for r in with_mem) >= sum(r.success for r in without)
    assert sum(r.plans for r in with_mem) < sum(r.plans for r in without)
    assert sum(r.steps for r in with_mem) < sum(r.steps for r in without)
    assert all(r.retrieved for r in with_mem) and practice[0].records


def test_raw_trajectory_store_keeps_only_successful_call_lists(tmp_path):
    mem = ExperienceMemory(tmp_path / "raw.db", HashEmbedder(128))
    cfg = LoopConfig(store="successes_raw")
    results = [run_attempt(CrafterSkillWorld(s), Task("collect_wood", 60), SymbolicPlanner(), mem, cfg)
               for s in range(2)]
    short = Task("collect_wood", 2)  # too short to succeed
    results.append(run_attempt(CrafterSkillWorld(5), short, SymbolicPlanner(), mem, cfg))
    assert [r.success for r in results] == [True, True, False]
    stored = list(mem.iter())
    assert len(stored) == 2 and all(e.success for e in stored)
    assert all(isinstance(s, str) for e in stored for s in e.plan)
    demo = run_attempt(CrafterSkillWorld(9), Task("collect_wood", 60), SymbolicPlanner(memory_use="demos"), mem,
                       LoopConfig(store="none"))
    assert demo.success and demo.records[-1]["skill"] == "collect(tree)"


def test_llm_planner_in_the_loop_and_its_failures_are_recorded(tmp_path):
    replies = iter(['{"plan": ["collect(tree)"], "insights": ["trees give wood"]}'])
    planner = LLMPlanner(lambda messages: next(replies), "scripted")
    mem = ExperienceMemory(tmp_path / "m.db", HashEmbedder(128))
    result = run_attempt(CrafterSkillWorld(1), TASKS["collect_wood"], planner, mem)
    assert result.success and result.insights == ["trees give wood"]
    assert next(mem.iter()).metadata["insights"] == ["trees give wood"]

    def broken(messages):
        raise PlannerError("server down")
    failed = run_attempt(CrafterSkillWorld(1), TASKS["collect_wood"], LLMPlanner(broken, "down"), mem)
    assert not failed.success and "planner error: server down" in failed.outcome and failed.records == []


def test_plan_and_memory_commands(tmp_path, capsys):
    db, log = tmp_path / "mem.db", tmp_path / "log.jsonl"
    rc = cli(["plan", "task=place_table", "attempts=2", f"memory={db}", "embedder=hash", f"log={log}"])
    assert rc == 0
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["seed"] for r in lines] == [0, 1] and all(r["task"] == "place_table" for r in lines)
    assert (tmp_path / "log.config.yaml").read_text().count("place_table") >= 1
    assert cli(["memory", "inspect", str(db)]) == 0
    assert '"experiences": 2' in capsys.readouterr().out
    assert cli(["memory", "search", str(db), "task: place_table", "-k", "1"]) == 0
    assert "place_table" in capsys.readouterr().out
    out = tmp_path / "x.jsonl"
    assert cli(["memory", "export", str(db), str(out)]) == 0 and len(out.read_text().splitlines()) == 2
    assert cli(["memory", "import", str(tmp_path / "copy.db"), str(out), "--embedder", "hash"]) == 0
    assert "imported 2 experiences" in capsys.readouterr().out
    assert cli(["plan", "task=fly_to_moon"]) == 2
    assert "fly_to_moon" in capsys.readouterr().err
    assert cli(["plan", "store=sometimes"]) == 2
    assert cli(["memory", "inspect", str(tmp_path / "absent.db")]) == 1


@pytest.mark.parametrize("override, message", [("planner=openai", "planner.model is not set"),
                                               ("planner=hf", "model_dir")])
def test_llm_backends_fail_at_start_up_when_unconfigured(override, message, capsys):
    assert cli(["plan", override, "attempts=1", "log=null"]) == 2
    assert message in capsys.readouterr().err


def test_whole_episode_agent_reports_achievements_within_the_step_cap():
    from embodied.planner.agent import play_episode
    from envs.crafter.planning import curriculum, night_shelter
    from envs.crafter.tasks import ACHIEVEMENTS
    ep = play_episode(CrafterSkillWorld(3, length=120), curriculum(40), SymbolicPlanner(), None, passes=1,
                      routine=night_shelter())
    assert ep.length <= 120 and set(ep.achievements) == set(ACHIEVEMENTS)
    assert ep.achievements["collect_wood"] == 1  # the first goal, within reach on any start
    assert all(v in (0, 1) for v in ep.achievements.values())
