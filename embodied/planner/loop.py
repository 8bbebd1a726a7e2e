"""The planner loop: observe -> retrieve -> plan -> execute (re-planning on failure) -> judge -> store.

It talks to the world only through the protocol in envs/skills.py (``SkillWorld``), so the same loop drives
Crafter (envs/crafter/planning.py) and MineDojo (envs/minedojo/planning.py).
"""
from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

from embodied.planner.base import PlanContext, Planner, PlannerError
from embodied.planner.experience import Experience, query_text
from embodied.planner.memory import ExperienceMemory
from envs.skills import SkillTask, SkillWorld

log = logging.getLogger(__name__)
STORE_MODES = ("all", "successes_raw", "none")


@dataclasses.dataclass
class LoopConfig:
    k: int = 16  # retrieved experiences, any task
    k_same_task: int = 4  # and of the same task (successes first)
    store: str = "all"  # all: every attempt with its skill records; successes_raw: successful call lists only
    max_plans: int = 40  # re-plans per attempt


@dataclasses.dataclass
class AttemptResult:
    task: str
    seed: int
    success: bool
    steps: int
    plans: int
    outcome: str
    records: list[dict[str, Any]]
    insights: list[str]
    retrieved: list[int]
    experience_id: int | None = None

    def log_line(self) -> str:
        return json.dumps(dataclasses.asdict(self))


def retrieve(memory: ExperienceMemory | None, task: str, state: str, cfg: LoopConfig) -> list[Experience]:
    if memory is None:
        return []
    query = memory.embedder.embed([query_text(task, state)])[0]
    same = memory.search_vector(query, cfg.k_same_task, task=task, success=True) if cfg.k_same_task else []
    if len(same) < cfg.k_same_task:
        same += memory.search_vector(query, cfg.k_same_task - len(same), task=task, success=False)
    seen = {e.id for _, e in same}
    rest = [e for _, e in memory.search_vector(query, cfg.k + len(seen)) if e.id not in seen][:cfg.k]
    return [e for _, e in same] + rest


def run_attempt(world: SkillWorld, task: SkillTask, planner: Planner, memory: ExperienceMemory | None,
                cfg: LoopConfig = LoopConfig()) -> AttemptResult:
    """One attempt at ``task`` in ``world`` as it is (fresh, or part-way through a long episode)."""
    seed = world.seed
    start_steps, state0 = world.steps, world.describe()
    retrieved = retrieve(memory, task.name, state0, cfg)
    records: list[dict[str, Any]] = []
    insights: list[str] = []
    plans, failure = 0, ""
    reached0 = world.reached(task)

    def done() -> bool:
        return world.reached(task) > reached0

    while not done() and not world.done and world.steps - start_steps < task.budget and plans < cfg.max_plans:
        ctx = PlanContext(task.name, task.goal, world.describe(), world.inventory, world.nearby(), retrieved,
                          records, world.language, world.target(task), seed)
        try:
            proposal = planner.propose(ctx)
        except PlannerError as e:
            failure = f"planner error: {e}"
            log.error("%s seed %d: %s", task.name, seed, failure)
            break
        plans += 1
        insights = proposal.insights or insights
        for call in proposal.calls:
            low = world.low()
            result = world.execute(call, task.budget - (world.steps - start_steps))
            records.append(result.to_dict())
            if done() or not result.ok or world.low() - low:
                break  # re-plan: after a failure, and when a vital fell low (to drink, eat or sleep)
    steps = world.steps - start_steps
    success = done()
    if success:
        outcome = f"success: {task.name} in {steps} steps"
    else:
        last = next((r for r in reversed(records) if not r["ok"]), None)
        why = failure or (f"last failure {last['skill']}: {last['reason']}" if last else "no failing step")
        outcome = f"failed after {steps} steps ({'player died' if world.dead else why})"
    result = AttemptResult(task.name, seed, success, steps, plans, outcome, records, insights,
                           [e.id for e in retrieved])
    if memory is not None and cfg.store != "none" and (cfg.store == "all" or success):
        plan = records if cfg.store == "all" else [r["skill"] for r in records if r["ok"]]
        meta = {"insights": insights if cfg.store == "all" else [], "steps": steps, "plans": plans,
                "planner": planner.name, "retrieved": result.retrieved, "world": world.name}
        exp = Experience(task.name, state0, plan, outcome, success, seed, metadata=meta)
        result.experience_id = memory.add([exp])[0]
    return result


def append_log(path: str | Path | None, result: AttemptResult) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as f:
            f.write(result.log_line() + "\n")
