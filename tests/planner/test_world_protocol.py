"""The planner talks to a world only through envs/skills.py's SkillWorld protocol, and `embodied plan` picks
the world by config (env=crafter | minedojo), fails in one line where MineDojo cannot start, and rejects every
key it does not read, naming it."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

import envs
from embodied.cli import main as cli
from embodied.config import ConfigError, Reads, load
from embodied.planner.loop import run_attempt
from embodied.planner.symbolic import SymbolicPlanner
from envs.crafter.planning import CrafterSkillWorld, task
from envs.skills import SkillWorld, Target

ROOT = Path(__file__).resolve().parents[2]


def test_crafter_implements_the_protocol_and_the_loop_drives_it():
    world = CrafterSkillWorld(1)
    assert isinstance(world, SkillWorld) and world.name == "crafter" and world.seed == 1
    assert world.describe().startswith("vitals: health 9/9") and world.low() == set()
    assert world.target(task("make_wood_pickaxe")) == Target(call="make(wood_pickaxe)")
    assert world.target(task("collect_wood")) == Target(item="wood", count=1)
    wood = task("collect_wood")
    assert world.reached(wood) == 0
    result = run_attempt(world, wood, SymbolicPlanner(), None)
    assert result.success and world.reached(wood) == 1 and result.steps == world.steps > 0
    assert world.inventory["wood"] >= 1 and not world.dead
    # a second attempt in the same world succeeds only when the count rises again
    again = run_attempt(world, task("collect_wood", budget=1), SymbolicPlanner(), None)
    assert not again.success and world.reached(wood) == 1


def test_a_task_the_symbolic_planner_cannot_map_is_a_planner_error_in_the_outcome():
    class Unmapped(CrafterSkillWorld):
        def target(self, task):
            return None
    world = Unmapped(2)
    result = run_attempt(world, task("collect_wood", budget=30), SymbolicPlanner(), None)
    assert not result.success and "no goal mapping for task 'collect_wood'" in result.outcome
    assert world.steps == 0 and result.records == []


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    return err


@pytest.mark.skipif(envs.start_problem("minedojo", {}) is None, reason="MineDojo can start here (JDK 8, minedojo)")
def test_plan_on_minedojo_where_it_cannot_start_fails_in_one_line(tmp_path, capsys):
    log = tmp_path / "log.jsonl"
    assert cli(["plan", "env=minedojo", "attempts=1", f"log={log}"]) == 2
    err = one_line_error(capsys)
    assert err.startswith("error: env=minedojo: ") and ("minedojo" in err.split(":", 2)[2])
    if importlib.util.find_spec("minedojo") is None:
        assert "pip install" in err and "minedojo==0.1" in err
    assert not log.exists() and not log.with_name("log.config.yaml").exists()


@pytest.mark.parametrize("override, key", [("env.length=500", "env.length"), ("+foo=1", "foo"),
                                           ("+planner.temperature=0.5", "planner.temperature"),
                                           ("env.size=32", "env.size")])
def test_plan_rejects_every_key_it_does_not_read(override, key, tmp_path, capsys):
    log = tmp_path / "log.jsonl"
    assert cli(["plan", override, "attempts=1", "embedder=hash", f"log={log}"]) == 2
    err = one_line_error(capsys)
    assert f"does not read {key} " in err and "(it reads: attempts, budget," in err
    assert not log.with_name("log.config.yaml").exists()  # nothing written before the check


def test_every_key_of_plan_yaml_is_read(tmp_path, capsys):
    """Setting each key of configs/plan.yaml and of the planner group (to its default) is accepted."""
    plan = yaml.safe_load((ROOT / "configs" / "plan.yaml").read_text())
    symbolic = yaml.safe_load((ROOT / "configs" / "planner" / "symbolic.yaml").read_text())
    values = {**{k: v for k, v in plan.items() if k != "defaults"}, **{f"planner.{k}": v for k, v in symbolic.items()},
              "env.name": "crafter", "attempts": 1, "budget": 20, "embedder": "hash", "log": str(tmp_path / "p.jsonl"),
              "task": "collect_wood"}
    argv = [f"{k}={'null' if v is None else v}" for k, v in values.items()]
    assert cli(["plan", *argv]) == 0, capsys.readouterr().err
    assert "collect_wood: " in capsys.readouterr().out and (tmp_path / "p.jsonl").exists()


def test_reads_records_keys_and_counts_a_group_as_read_through_its_keys():
    cfg = Reads(load("plan", ["planner=openai", "env=minedojo"]))
    assert cfg.planner.get("model") is None and cfg.select("env.name") == "minedojo"
    cfg.reject_unread(["planner=openai", "env=minedojo", "planner.model=x", "~budget"], "plan")
    with pytest.raises(ConfigError, match=r"^env.task=a; \+seed2=1: `embodied plan` does not read env.task, seed2 "):
        cfg.reject_unread(["env.task=a", "+seed2=1"], "plan")
    assert "env.task" not in cfg.read() and "planner.model" in cfg.read()
    with pytest.raises(AttributeError, match="no key 'nope'"):
        cfg.nope  # noqa: B018
