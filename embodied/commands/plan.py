"""``embodied plan``: run the memory-informed planner loop on a task for several attempts.

    embodied plan env=crafter task=make_stone_pickaxe attempts=20 memory=runs/plan/memory.db
    embodied plan env=minedojo task=harvest_1_log attempts=3     # MineDojo 0.1 with JDK 8
    embodied plan task=collect_iron planner=openai planner.model=llama3 planner.base_url=http://host:11434/v1

The planner talks to the world through envs/skills.py's ``SkillWorld`` protocol; ``env=`` picks the world
(``WORLDS``). A key that this command does not read (``env.length=500``, ``+foo=1``) is an error naming it.
"""
from __future__ import annotations

import importlib
import logging
from pathlib import Path

from omegaconf import OmegaConf
from rich.console import Console
from rich.progress import Progress

import envs
from embodied.atomic import write_atomic
from embodied.config import ConfigError, Reads, check, choice, load, positive_int
from embodied.planner.backends import BACKENDS, make_planner
from embodied.planner.base import PlannerError
from embodied.planner.embedders import EMBEDDERS, make_embedder
from embodied.planner.loop import STORE_MODES, LoopConfig, append_log, run_attempt
from embodied.planner.memory import ExperienceMemory, MemoryDBError

# env.name -> the module with the world's ``task(name, budget)``, ``make_world(task, seed, search_steps)``,
# ``DEFAULT_TASK``; each world implements envs.skills.SkillWorld.
WORLDS = {"crafter": "envs.crafter.planning", "minedojo": "envs.minedojo.planning"}
HELP = """usage: embodied plan [key=value ...]

Runs the planner loop for `attempts` attempts at `task`, attempt i in world seed + i; every key is documented
in configs/plan.yaml and configs/planner/. env=crafter (default) | minedojo; planner=symbolic | openai | hf."""


def main(argv: list[str]) -> int:
    if {"-h", "--help"} & set(argv):
        print(HELP)
        return 0
    composed = load("plan", argv)
    cfg = Reads(composed)
    name = choice(cfg, "env.name", list(WORLDS))
    world = importlib.import_module(WORLDS[name])
    budget = cfg.budget if cfg.budget is None else positive_int(cfg, "budget")
    try:
        task = world.task(cfg.task, budget)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    attempts = positive_int(cfg, "attempts")
    seed = check(cfg, "seed", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "a non-negative integer")
    search_steps = cfg.search_steps if cfg.search_steps is None else positive_int(cfg, "search_steps")
    embedder = choice(cfg, "embedder", EMBEDDERS)
    choice(cfg, "store", STORE_MODES)
    choice(cfg, "planner.backend", BACKENDS)
    loop_cfg = LoopConfig(k=cfg.retrieve_k, k_same_task=cfg.retrieve_k_same_task, store=cfg.store)
    memory_path = cfg.memory
    log_path = Path(f"runs/plan/{task.name}.jsonl") if cfg.log == "auto" else Path(cfg.log) if cfg.log else None
    try:
        planner = make_planner(cfg.planner)
    except PlannerError as e:
        raise ConfigError(str(e)) from None
    cfg.reject_unread(argv, "plan")  # everything is read by now; nothing has been written yet
    problem = envs.start_problem(name, {})
    if problem:
        raise ConfigError(f"env={name}: {problem}")
    try:
        memory = ExperienceMemory(memory_path, make_embedder(embedder)) if memory_path else None
    except MemoryDBError as e:
        raise ConfigError(str(e)) from None
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    console = Console()
    if log_path:
        write_atomic(log_path.with_name(log_path.stem + ".config.yaml"), OmegaConf.to_yaml(composed, resolve=True))
    console.print(f"[bold]{name}[/] task {task.name} ({task.budget} steps/attempt), planner {planner.name}, "
                  f"memory {memory_path or 'off'}" + (f" ({len(memory)} experiences)" if memory else ""))
    try:
        wins = _attempts(world, task, search_steps, planner, memory, loop_cfg, seed, attempts, log_path, console)
    finally:
        if memory:
            memory.close()
    console.print(f"[bold]{task.name}: {wins}/{attempts} successes ({wins / attempts:.0%})[/]"
                  + (f"; log {log_path}" if log_path else ""))
    return 0


def _attempts(world, task, search_steps, planner, memory, loop_cfg, first_seed, attempts, log_path, console) -> int:
    """Run the attempts, each in a fresh world, with a progress bar and one console and one log line each."""
    wins = 0
    with Progress(console=console, transient=True) as progress:
        job = progress.add_task(f"{task.name}", total=attempts)
        for i in range(attempts):
            seed = first_seed + i
            sim = world.make_world(task, seed, search_steps)
            try:
                result = run_attempt(sim, task, planner, memory, loop_cfg)
            finally:
                sim.close()
            wins += result.success
            append_log(log_path, result)
            mark = "[green]success[/]" if result.success else "[red]failure[/]"
            console.print(f"attempt {i + 1}/{attempts} world {seed}: {mark} {result.outcome}; "
                          f"{len(result.records)} skill calls, {result.plans} plans, "
                          f"{len(result.retrieved)} experiences retrieved")
            progress.advance(job)
    return wins
