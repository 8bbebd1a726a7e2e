"""Does experience memory make the planner better on unseen Crafter worlds?

Success rate per task on held-out world seeds for (a) the symbolic planner without memory, (b) with the
experience memory built by a fixed number of practice attempts per task on other seeds, and (c) with a
memory of raw successful trajectories only (replayed as demonstrations: the "self-generated examples"
baseline). Then the Crafter score (geometric mean over the 22 achievements, Hafner 2021) of the whole-
episode planner agent with memory (b). Last stdout line: one JSON object.

    python benchmarks/planner_memory.py                 # ~4 min: 10 held-out seeds, 20 score episodes
    python benchmarks/planner_memory.py --episodes 100  # the paper's 100-episode count
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

import numpy as np  # noqa: E402
from rich.progress import Progress  # noqa: E402

from embodied.planner.agent import play_episode  # noqa: E402
from embodied.planner.embedders import make_embedder  # noqa: E402
from embodied.planner.loop import LoopConfig, run_attempt  # noqa: E402
from embodied.planner.memory import ExperienceMemory  # noqa: E402
from embodied.planner.symbolic import SymbolicPlanner  # noqa: E402
from envs.crafter.tasks import ACHIEVEMENTS, TASK_SET, TASKS, crafter_score  # noqa: E402

PRACTICE_SEED, HELDOUT_SEED, EPISODE_SEED = 100_000, 0, 200_000  # disjoint world seed ranges


def practice(memory, planner, tasks, rounds, store, progress):
    job = progress.add_task(f"practice ({store})", total=rounds * len(tasks))
    cfg = LoopConfig(store=store)
    for r in range(rounds):
        for i, name in enumerate(tasks):
            run_attempt(TASKS[name], PRACTICE_SEED + r * 1000 + i, planner, memory, cfg)
            progress.advance(job)


def evaluate(memory, planner, tasks, seeds, label, progress):
    job = progress.add_task(f"held-out: {label}", total=len(tasks) * seeds)
    cfg = LoopConfig(store="none")
    rates = {}
    for name in tasks:
        wins = 0
        for s in range(seeds):
            wins += run_attempt(TASKS[name], HELDOUT_SEED + s, planner, memory, cfg).success
            progress.advance(job)
        rates[name] = wins / seeds
    return rates


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", nargs="+", default=list(TASK_SET), choices=list(TASKS))
    ap.add_argument("--practice-rounds", type=int, default=3, help="practice attempts per task (other seeds)")
    ap.add_argument("--seeds", type=int, default=10, help="held-out worlds per task")
    ap.add_argument("--episodes", type=int, default=20, help="whole episodes for the Crafter score (paper: 100)")
    ap.add_argument("--episode-length", type=int, default=10000)
    ap.add_argument("--embedder", default="minilm", choices=["minilm", "hash"])
    ap.add_argument("--out", help="also write the JSON here")
    args = ap.parse_args(argv)

    t0 = time.time()
    embedder = make_embedder(args.embedder)
    workdir = Path(tempfile.mkdtemp(prefix="planner_memory_"))
    with Progress(transient=True) as progress:
        knowledge = ExperienceMemory(workdir / "experience.db", embedder)
        practice(knowledge, SymbolicPlanner(), args.tasks, args.practice_rounds, "all", progress)
        raw = ExperienceMemory(workdir / "raw_successes.db", embedder)
        demo_planner = SymbolicPlanner(memory_use="demos")
        practice(raw, demo_planner, args.tasks, args.practice_rounds, "successes_raw", progress)
        t_practice = time.time() - t0
        none = evaluate(None, SymbolicPlanner(), args.tasks, args.seeds, "no memory", progress)
        mem = evaluate(knowledge, SymbolicPlanner(), args.tasks, args.seeds, "memory", progress)
        raw_rates = evaluate(raw, demo_planner, args.tasks, args.seeds, "raw trajectories", progress)
        t_eval = time.time() - t0 - t_practice
        job = progress.add_task("Crafter score episodes (memory)", total=args.episodes)
        episodes = []
        for e in range(args.episodes):
            episodes.append(play_episode(EPISODE_SEED + e, SymbolicPlanner(), knowledge, args.episode_length))
            progress.advance(job)
    rates = {a: float(np.mean([ep.achievements[a] for ep in episodes])) for a in ACHIEVEMENTS}
    mean = {k: float(np.mean(list(v.values()))) for k, v in
            (("none", none), ("memory", mem), ("raw", raw_rates))}
    out = {
        "tasks": args.tasks,
        "budgets": {t: TASKS[t].budget for t in args.tasks},
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
        "tasks_hurt_by_memory": [t for t in args.tasks if mem[t] < none[t]],
        "memory_experiences": len(knowledge),
        "crafter_score_memory": crafter_score(rates),
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
        Path(args.out).write_text(line + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
