"""``embodied plan``: run the memory-informed planner loop on a task for several attempts.

    embodied plan env=crafter task=make_stone_pickaxe attempts=20 memory=runs/plan/memory.db
    embodied plan task=collect_iron planner=openai planner.model=llama3 planner.base_url=http://host:11434/v1
"""
from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from rich.console import Console
from rich.progress import Progress

from embodied.atomic import write_atomic
from embodied.config import ConfigError, check, choice, positive_int
from embodied.planner.backends import BACKENDS, make_planner
from embodied.planner.base import PlannerError
from embodied.planner.embedders import EMBEDDERS, make_embedder
from embodied.planner.loop import STORE_MODES, LoopConfig, append_log, run_attempt
from embodied.planner.memory import ExperienceMemory, MemoryDBError


def run(cfg: DictConfig) -> int:
    from envs.crafter.tasks import task as crafter_task

    env = choice(cfg, "env.name", ["crafter"])
    try:
        task = crafter_task(cfg.task)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    attempts = positive_int(cfg, "attempts")
    check(cfg, "seed", lambda v: isinstance(v, int) and v >= 0, "a non-negative integer")
    if cfg.budget is not None:
        task = type(task)(task.name, positive_int(cfg, "budget"))
    choice(cfg, "embedder", EMBEDDERS)
    choice(cfg, "store", STORE_MODES)
    choice(cfg, "planner.backend", BACKENDS)
    loop_cfg = LoopConfig(k=cfg.retrieve_k, k_same_task=cfg.retrieve_k_same_task, store=cfg.store,
                          search_steps=positive_int(cfg, "search_steps"))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    console = Console()
    try:
        planner = make_planner(OmegaConf.to_container(cfg.planner, resolve=True))
        memory = ExperienceMemory(cfg.memory, make_embedder(cfg.embedder)) if cfg.memory else None
    except (PlannerError, MemoryDBError) as e:
        raise ConfigError(str(e)) from None
    log_path = Path(cfg.log) if cfg.log else None
    if log_path:
        write_atomic(log_path.with_name(log_path.stem + ".config.yaml"), OmegaConf.to_yaml(cfg, resolve=True))
    console.print(f"[bold]{env}[/] task {task.name} ({task.budget} steps/attempt), planner {planner.name}, "
                  f"memory {cfg.memory or 'off'}" + (f" ({len(memory)} experiences)" if memory else ""))
    try:
        wins = _attempts(task, planner, memory, loop_cfg, cfg.seed, attempts, log_path, console)
    finally:
        if memory:
            memory.close()
    console.print(f"[bold]{task.name}: {wins}/{attempts} successes ({wins / attempts:.0%})[/]"
                  + (f"; log {log_path}" if log_path else ""))
    return 0


def _attempts(task, planner, memory, loop_cfg, first_seed, attempts, log_path, console) -> int:
    """Run the attempts with a progress bar and one console line and one log line per attempt."""
    wins = 0
    with Progress(console=console, transient=True) as progress:
        job = progress.add_task(f"{task.name}", total=attempts)
        for i in range(attempts):
            seed = first_seed + i
            result = run_attempt(task, seed, planner, memory, loop_cfg)
            wins += result.success
            append_log(log_path, result)
            mark = "[green]success[/]" if result.success else "[red]failure[/]"
            console.print(f"attempt {i + 1}/{attempts} world {seed}: {mark} {result.outcome}; "
                          f"{len(result.records)} skill calls, {result.plans} plans, "
                          f"{len(result.retrieved)} experiences retrieved")
            progress.advance(job)
    return wins
