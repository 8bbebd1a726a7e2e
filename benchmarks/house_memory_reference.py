"""How much could memory gain in our houses? The scripted references' in-context curves (issue 14).

Runs the frontier explorer that keeps its map over the trial (``explorer_memory``) and the one that forgets
it every episode (``explorer``) (envs/house/explorer.py) on trials of 20 episodes, for each trial variant
(``goal_per``: a new goal category every episode, DESIGN's task, or one per trial; ``start_per``: with one goal
per trial, a new start every episode or the trial's first again), episode cap and split
(train: 2-6 rooms; test: 7-8 rooms, structurally unseen), and reports per setting the success at episode 1,
over episodes 11-20 and the gain (paired per trial, 95% Student-t interval). The recipe
``configs/experiment/incontext_house_memory.yaml`` is the setting chosen from this table: where the memory
reference gains at least 0.3 and the memoryless one nothing.

    python benchmarks/house_memory_reference.py                      # DESIGN's task, 4 caps: ~4 minutes
    python benchmarks/house_memory_reference.py --goal-per episode trial --caps 40 60 80 100 150  # the table in
                                                                     # benchmarks/reports/incontext_house.md
    python benchmarks/house_memory_reference.py --goal-per trial --start-per trial --caps 60 --out benchmarks/results/house_memory_samestart

Writes metrics.json and table.md into ``--out`` (default benchmarks/results/house_memory) and prints one JSON
object as the last line of stdout (``explorer_memory_gain_11_20_over_1`` / ``explorer_gain_11_20_over_1`` of
the chosen setting, and every setting's gains).
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

from embodied.evaluation import runner, stats
from embodied.atomic import write_atomic

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "house_memory"
AGENTS = ("explorer_memory", "explorer")
EPISODES = 20
CHOSEN = {"goal_per": "episode", "start_per": "episode", "max_steps": 60, "split": "test"}  # incontext_house_memory's


def success_matrix(rows: list[dict]) -> np.ndarray:
    """(trials, EPISODES) success from evaluation rows."""
    trials = sorted({r["trial"] for r in rows})
    index = {t: i for i, t in enumerate(trials)}
    out = np.full((len(trials), EPISODES), np.nan)
    for r in rows:
        out[index[r["trial"]], r["episode_index"]] = r["success"]
    return out


def late_gain(success: np.ndarray) -> dict:
    """Episode 1, mean of episodes 11-20 and their paired difference, each with its 95% interval."""
    first, late = success[:, 0], np.nanmean(success[:, 10:20], axis=1)
    out = {}
    for name, x in (("episode_1", first), ("episodes_11_20", late), ("gain", late - first)):
        lo, hi = stats.t_interval(x)
        out[name] = {"mean": float(np.mean(x)), "lo": lo, "hi": hi}
    return out


def run_setting(agent: str, setting: dict, trials: int, seed: int) -> dict:
    env = {"split": setting["split"], "resolution": 8, "max_steps": setting["max_steps"],
           "goal_per": setting["goal_per"], "start_per": setting["start_per"]}  # the explorers read no images
    tasks = runner.chunks(agent, trials, 32, episodes=EPISODES, seed=seed, env=env,
                          max_episode_steps=setting["max_steps"])
    rows = [r for part in runner.run_inprocess(tasks) for r in part]
    success = success_matrix(rows)
    curve = [float(v) for v in np.nanmean(success, axis=0)]
    return {**late_gain(success), "curve": curve}


def table(results: list[dict]) -> str:
    lines = ["| goal per | start per | episode cap | split | memory: episode 1 | memory: 11-20 | memory gain | "
             "no memory: episode 1 | no memory: 11-20 | no memory gain |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        m, f = r["explorer_memory"], r["explorer"]
        cells = [_ci(m["episode_1"]), _ci(m["episodes_11_20"]), _ci(m["gain"]), _ci(f["episode_1"]),
                 _ci(f["episodes_11_20"]), _ci(f["gain"])]
        chosen = " **(chosen)**" if all(r[k] == v for k, v in CHOSEN.items()) else ""
        lines.append(f"| {r['goal_per']} | {r['start_per']} | {r['max_steps']}{chosen} | {r['split']} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _ci(s: dict) -> str:
    return f"{s['mean']:.2f} [{s['lo']:.2f}, {s['hi']:.2f}]"


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=64, help="trials (houses) per agent and setting")
    p.add_argument("--caps", type=int, nargs="+", default=[40, 60, 80, 100], help="episode caps (steps)")
    p.add_argument("--goal-per", nargs="+", default=["episode"], choices=("episode", "trial"))
    p.add_argument("--start-per", nargs="+", default=["episode"], choices=("episode", "trial"),
                   help="'trial' only with --goal-per trial (the start is drawn for its goal)")
    p.add_argument("--splits", nargs="+", default=["train", "test"], choices=("train", "val", "test"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(RESULTS), help="folder for metrics.json and table.md ('': none)")
    args = p.parse_args(argv)
    if args.trials < 2 or min(args.caps) <= 0:
        p.error("--trials must be >= 2 and every --caps value positive")
    started = time.time()
    results = []
    if "trial" in args.start_per and "trial" not in args.goal_per:
        p.error("--start-per trial needs --goal-per trial")
    variants = [(g, s) for g, s in itertools.product(args.goal_per, args.start_per) if g == "trial" or s == "episode"]
    for (goal_per, start_per), cap, split in itertools.product(variants, args.caps, args.splits):
        setting = {"goal_per": goal_per, "start_per": start_per, "max_steps": cap, "split": split}
        results.append({**setting, **{a: run_setting(a, setting, args.trials, args.seed) for a in AGENTS}})
        m, f = results[-1]["explorer_memory"]["gain"], results[-1]["explorer"]["gain"]
        print(f"goal_per={goal_per} start_per={start_per} cap={cap} split={split}: memory gain {m['mean']:+.2f}, "
              f"no-memory gain {f['mean']:+.2f}", file=sys.stderr)
    out = {"trials": args.trials, "episodes": EPISODES, "seconds": round(time.time() - started, 1),
           "chosen": CHOSEN, "settings": results}
    chosen = [r for r in results if all(r[k] == v for k, v in CHOSEN.items())]
    if chosen:
        out["explorer_memory_gain_11_20_over_1"] = chosen[0]["explorer_memory"]["gain"]
        out["explorer_gain_11_20_over_1"] = chosen[0]["explorer"]["gain"]
    if args.out:
        folder = Path(args.out)
        text = json.dumps(out, indent=1) + "\n"
        write_atomic(folder / "metrics.json", text)
        write_atomic(folder / "table.md", table(results))
    last = {k: v for k, v in out.items() if k != "settings"}
    last["gains"] = {f"{r['goal_per']}/{r['start_per']}/{r['max_steps']}/{r['split']}": {
        a: round(r[a]["gain"]["mean"], 3) for a in AGENTS} for r in results}
    print(json.dumps(last))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
