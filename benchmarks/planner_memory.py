"""Does experience memory make the planner better on unseen Crafter worlds?

Success rate per task on held-out world seeds for (a) the symbolic planner without memory, (b) with the
experience memory built by a fixed number of practice attempts per task on other seeds, and (c) with a
memory of raw successful trajectories only (replayed as demonstrations: the "self-generated examples"
baseline). Then the Crafter score (geometric mean over the 22 achievements, Hafner 2021) of the whole-
episode planner agent with memory (b). Last stdout line: one JSON object.

    python benchmarks/planner_memory.py                 # ~2-3 min CPU: 8 held-out seeds, 20 score episodes
    python benchmarks/planner_memory.py --episodes 100  # the Crafter paper's 100 episodes (~+3 min)
    python benchmarks/planner_memory.py --tasks collect_diamond --seeds 20   # any task subset
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")  # one-sentence embeddings: threads only contend

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import Progress  # noqa: E402

from embodied.atomic import write_atomic  # noqa: E402
from embodied.planner.agent import play_episode  # noqa: E402
from embodied.planner.embedders import make_embedder  # noqa: E402
from embodied.planner.loop import LoopConfig, run_attempt  # noqa: E402
from embodied.planner.memory import ExperienceMemory  # noqa: E402
from embodied.planner.symbolic import SymbolicPlanner  # noqa: E402
from envs.crafter.planning import CrafterSkillWorld, curriculum, night_shelter  # noqa: E402
from envs.crafter.tasks import ACHIEVEMENTS, TASK_SET, TASKS, Task, crafter_score  # noqa: E402

PRACTICE_SEED, HELDOUT_SEED, EPISODE_SEED = 100_000, 0, 200_000  # disjoint world seed ranges


def practice(memory, planner, tasks, rounds, store, progress):
    job = progress.add_task(f"practice ({store})", total=rounds * len(tasks))
    cfg = LoopConfig(store=store)
    for r in range(rounds):
        for i, task in enumerate(tasks):
            run_attempt(CrafterSkillWorld(PRACTICE_SEED + r * 1000 + i), task, planner, memory, cfg)
            progress.advance(job)


def evaluate(memory, planner, tasks, seeds, label, progress):
    job = progress.add_task(f"held-out: {label}", total=len(tasks) * seeds)
    cfg = LoopConfig(store="none")
    rates, steps = {}, {}
    for task in tasks:
        name = task.name
        results = []
        for s in range(seeds):
            results.append(run_attempt(CrafterSkillWorld(HELDOUT_SEED + s), task, planner, memory, cfg))
            progress.advance(job)
        rates[name] = sum(r.success for r in results) / seeds
        won = [r.steps for r in results if r.success]
        steps[name] = float(np.median(won)) if won else None
    return rates, steps


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", nargs="+", default=list(TASK_SET), choices=list(TASKS))
    ap.add_argument("--practice-rounds", type=int, default=3, help="practice attempts per task (other seeds)")
    ap.add_argument("--seeds", type=int, default=8, help="held-out worlds per task")
    ap.add_argument("--episodes", type=int, default=20, help="whole episodes for the Crafter score (paper: 100)")
    ap.add_argument("--episode-length", type=int, default=10000)
    ap.add_argument("--budget-scale", type=float, default=1.0,
                    help="multiply every task's step budget (looser budgets favour trial and error)")
    ap.add_argument("--embedder", default="minilm", choices=["minilm", "hash"])
    ap.add_argument("--out", help="also write the JSON here")
    args = ap.parse_args(argv)

    t0 = time.time()
    tasks = [Task(n, max(1, round(TASKS[n].budget * args.budget_scale))) for n in args.tasks]
    embedder = make_embedder(args.embedder)
    workdir = Path(tempfile.mkdtemp(prefix="planner_memory_"))
    with Progress(transient=True, console=Console(stderr=True)) as progress:
        knowledge = ExperienceMemory(workdir / "experience.db", embedder)
        practice(knowledge, SymbolicPlanner(), tasks, args.practice_rounds, "all", progress)
        raw = ExperienceMemory(workdir / "raw_successes.db", embedder)
        demo_planner = SymbolicPlanner(memory_use="demos")
        practice(raw, demo_planner, tasks, args.practice_rounds, "successes_raw", progress)
        t_practice = time.time() - t0
        none, none_steps = evaluate(None, SymbolicPlanner(), tasks, args.seeds, "no memory", progress)
        mem, mem_steps = evaluate(knowledge, SymbolicPlanner(), tasks, args.seeds, "memory", progress)
        raw_rates, _ = evaluate(raw, demo_planner, tasks, args.seeds, "raw trajectories", progress)
        t_eval = time.time() - t0 - t_practice
        job = progress.add_task("Crafter score episodes (memory)", total=args.episodes)
        episodes = []
        for e in range(args.episodes):
            world = CrafterSkillWorld(EPISODE_SEED + e, length=args.episode_length)
            episodes.append(play_episode(world, curriculum(), SymbolicPlanner(), knowledge, routine=night_shelter()))
            progress.advance(job)
    rates = {a: float(np.mean([ep.achievements[a] for ep in episodes])) for a in ACHIEVEMENTS} if episodes else {}
    mean = {k: float(np.mean(list(v.values()))) for k, v in
            (("none", none), ("memory", mem), ("raw", raw_rates))}
    out = {
        "tasks": args.tasks,
        "budgets": {t.name: t.budget for t in tasks},
        "heldout_seeds_per_task": args.seeds,
        "practice_attempts_per_task": args.practice_rounds,
        "embedder": embedder.name,
        "success_no_memory": none,
        "success_memory": mem,
        "success_raw_trajectories": raw_rates,
        "mean_success_no_memory": mean["none"],
        "mean_success_memory": mean["memory"],
        "mean_success_raw_trajectories": mean["raw"],
        "memory_gain": mean["memory"] - mean["none"],
        "median_steps_to_success_no_memory": none_steps,
        "median_steps_to_success_memory": mem_steps,
        "tasks_hurt_by_memory": [t for t in args.tasks if mem[t] < none[t]],
        "memory_experiences": len(knowledge),
        "crafter_score_memory": crafter_score(rates) if episodes else None,
        "crafter_score_episodes": args.episodes,
        "crafter_achievement_rates": rates,
        "crafter_mean_episode_length": float(np.mean([ep.length for ep in episodes])) if episodes else 0.0,
        "crafter_deaths": int(sum(ep.died for ep in episodes)),
        "seconds_practice": round(t_practice, 1),
        "seconds_eval": round(t_eval, 1),
        "seconds_total": round(time.time() - t0, 1),
    }
    line = json.dumps(out)
    if args.out:
        write_atomic(args.out, line + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
