"""In-context RL on Darkroom: the main agent against its controls, on held-out goals, with the KV cache.

    python benchmarks/incontext_darkroom.py [NAME=RUN_DIR ...] [--trials 200] [--out benchmarks/results/darkroom]

Agents (trained by the commands in configs/experiment/incontext_darkroom.yaml; by default found under runs/):
  main                runs/incontext_darkroom        Sink-KV transformer, inter-episode attention, reward input
  no_inter_episode    runs/incontext_darkroom_intra  the same, attending only within the running episode
  gru                 runs/incontext_darkroom_gru    RL^2: a GRU whose state spans the trial
  no_partial_updates  runs/incontext_darkroom_full   the main agent trained with one update per trial
  grad_context_none   runs/incontext_darkroom_ctxnone  partial updates without gradients into the older context
  grad_context_50     runs/incontext_darkroom_ctx50    ... with gradients into its last 50 steps only
  gru_grad_context_none  runs/incontext_darkroom_gru_ctxnone  the GRU, partial updates without gradients into the older context
  overlap_updates     runs/incontext_darkroom_overlap  the main agent with each update beside the next U steps' acting
References on the same trials: optimal (knows the goal), random, explorer (sweeps the grid until it finds
the goal, then goes straight to it in every later episode).

Every agent runs ``--trials`` trials on the **test** goals (20% of the cells, never a training goal), as many
episodes per trial as it trained with, sampling its actions. Per episode the env reports the return over
the optimal return for that goal; "late" is the mean over the second half of the trial's episodes. Intervals
are 95% Student-t over trials. The attention probe measures, for the main agent, how much of the attention
that steps of later episodes pay to earlier episodes lands on the steps where the goal was found,
relative to those steps' share of the earlier context (1 = no preference).

Last line of stdout: one JSON object (keys ``main_return_late_over_optimal``, ``main_return_ep1_over_optimal``,
``no_inter_episode_return_late_over_optimal``, ``gru_return_late_over_optimal``,
``no_partial_updates_return_late_over_optimal``, ``*_ci``, ``runs``, ``targets_met`` ...).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from embodied.commands.eval import env_of
from embodied.evaluation import runner, stats
from embodied.evaluation.evaluate import json_safe
from embodied.learner import checkpoint
from embodied.atomic import write_atomic

AGENTS = {"main": "incontext_darkroom", "no_inter_episode": "incontext_darkroom_intra",
          "gru": "incontext_darkroom_gru", "no_partial_updates": "incontext_darkroom_full",
          "grad_context_none": "incontext_darkroom_ctxnone", "grad_context_50": "incontext_darkroom_ctx50",
          "gru_grad_context_none": "incontext_darkroom_gru_ctxnone", "overlap_updates": "incontext_darkroom_overlap"}
REFERENCES = ("oracle", "random", "explorer")
LABELS = {"oracle": "optimal", "random": "random", "explorer": "explore-then-exploit (scripted)"}


def describe(run: Path) -> dict:
    """The checkpoint to evaluate and what its run cost (env steps, wall time summed over resumed segments)."""
    file = checkpoint.resolve(run)
    data = checkpoint.read(file)
    cfg = checkpoint.config_of(data)
    wall, last = 0.0, 0.0
    metrics = run / "metrics.csv" if run.is_dir() else file.parents[1] / "metrics.csv"
    if metrics.exists():
        with open(metrics, newline="") as f:
            for row in csv.DictReader(f):
                w = float(row.get("perf/wall_s") or "nan")
                if math.isfinite(w):
                    if w < last:  # a resumed segment restarts its clock
                        wall += last
                    last = w
    env = env_of(cfg)
    return {"checkpoint": str(file), "env": env, "episodes": int(cfg.trainer.rollout_steps) // int(env["horizon"]),
            "env_steps": int(data["counters"]["env_steps"]), "wall_minutes": round((wall + last) / 60, 1),
            "policy": str(cfg.policy.name), "inter_episode": cfg.policy.get("inter_episode"),
            "update_every": int(cfg.trainer.update_every), "rollout_steps": int(cfg.trainer.rollout_steps)}


def run_trials(policy: str, env: dict, trials: int, episodes: int, seed: int, chunk: int) -> list[dict]:
    tasks = runner.chunks(policy, trials, chunk, episodes=episodes, seed=seed, env={**env, "split": "test"},
                          max_episode_steps=int(env["horizon"]))
    return sorted((r for part in runner.run_inprocess(tasks) for r in part),
                  key=lambda r: (r["trial"], r["episode_index"]))


def summary(rows: list[dict], episodes: int) -> dict:
    """Per-episode-index curve and the episode-1 / late means (over trials) of the return over optimal."""
    ratio = np.full((max(r["trial"] for r in rows) + 1, episodes), np.nan)
    for r in rows:
        ratio[r["trial"], r["episode_index"]] = r["return_over_optimal"]
    late = np.nanmean(ratio[:, episodes // 2:], axis=1)

    def ci(x: np.ndarray) -> dict:
        lo, hi = stats.t_interval(x[~np.isnan(x)])
        return {"mean": float(np.nanmean(x)), "lo": lo, "hi": hi, "n": int((~np.isnan(x)).sum())}

    return {"ep1": ci(ratio[:, 0]), "late": ci(late), "gain": ci(late - ratio[:, 0]),
            "curve": stats.curve(rows, ["return", "return_over_optimal", "success", "steps_to_goal"], episodes)}


def attention_probe(policy: str, env_cfg: dict, trials: int, episodes: int, seed: int) -> dict:
    """Relative attention of later-episode steps to the earlier steps where the goal was found."""
    import envs
    from embodied.rollout.actor import make_actor

    env = envs.make(**{**env_cfg, "split": "test"}, num_envs=trials, seed=seed, episodes_per_trial=episodes)
    agent = make_actor(policy, seed=seed, max_steps=episodes * int(env_cfg["horizon"]) + 1)
    obs = env.reset(seed=seed)
    agent.reset(env, obs)
    rewards, episode_of = [], []
    ratios = []
    for _ in range(episodes * int(env_cfg["horizon"])):
        action = agent.act(env, obs)
        weights = agent.attention()
        episode = np.asarray(obs["episode_index"]).copy()
        obs, reward, _, _ = env.step({"action": action})
        agent.commit(action, reward)
        if weights is not None and len(rewards):
            past_r, past_e = np.stack(rewards, 1), np.stack(episode_of, 1)
            for i, w in enumerate(weights):
                earlier = past_e[i] < episode[i]  # steps of earlier episodes (the current one excluded)
                hits = earlier & (past_r[i] > 0)
                mass = w[:len(earlier)]
                if hits.any() and (earlier & ~hits).any() and mass[earlier].sum() > 0:
                    share = mass[hits].sum() / mass[earlier].sum()
                    ratios.append(share / (hits.sum() / earlier.sum()))
        rewards.append(np.asarray(reward, np.float32))
        episode_of.append(episode)
    env.close()
    r = np.asarray(ratios)
    lo, hi = stats.t_interval(r) if len(r) else (math.nan, math.nan)
    return {"relative_attention_to_goal_steps": float(r.mean()) if len(r) else math.nan, "lo": lo, "hi": hi,
            "steps": int(len(r)), "trials": trials}


def plot(results: dict, refs: dict, runs: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax_train) = plt.subplots(1, 2, figsize=(12, 4.2))
    styles = {"main": ("tab:blue", "-"), "no_inter_episode": ("tab:red", "-"), "gru": ("tab:purple", "-"),
              "no_partial_updates": ("tab:orange", "-"), "grad_context_none": ("tab:cyan", "-"),
              "grad_context_50": ("tab:olive", "-"),
              "gru_grad_context_none": ("tab:pink", "--"), "oracle": ("tab:green", "--"), "random": ("tab:gray", ":"),
              "explorer": ("black", "-.")}
    for name, res in {**results, **refs}.items():
        pts = res["curve"]["return_over_optimal"]
        x = np.arange(1, len(pts) + 1)
        colour, style = styles.get(name, ("tab:brown", "-"))
        mean = np.array([p["mean"] for p in pts])
        ax.plot(x, mean, style, color=colour, marker="o", ms=3, label=LABELS.get(name, name.replace("_", " ")))
        if name in results:
            ax.fill_between(x, [p["lo"] for p in pts], [p["hi"] for p in pts], color=colour, alpha=0.15, lw=0)
    ax.set_xlabel("episode within the trial (held-out goals)")
    ax.set_ylabel("return / optimal return")
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    for name, info in runs.items():
        metrics = Path(info["checkpoint"]).parents[1] / "metrics.csv"
        if not metrics.exists():
            continue
        with open(metrics, newline="") as f:
            rows = [r for r in csv.DictReader(f) if r.get("episode/return_over_optimal")]
        colour, _ = styles.get(name, ("tab:brown", "-"))
        ax_train.plot([float(r["env_steps"]) / 1e6 for r in rows], [float(r["episode/return_over_optimal"]) for r in rows],
                      color=colour, label=name.replace("_", " "))
    ax_train.set_xlabel("env steps (M)")
    ax_train.set_ylabel("training return / optimal (all episodes, window)")
    ax_train.set_ylim(0, 1.05)
    ax_train.grid(alpha=0.3)
    ax_train.legend(fontsize=8)
    fig.suptitle("Darkroom 10x10: in-context return on held-out goals (95% CI over trials) and training curves")
    fig.tight_layout()
    try:
        write_atomic(out, lambda tmp: fig.savefig(tmp, dpi=110))
    finally:
        plt.close(fig)


def table(results: dict, refs: dict, runs: dict) -> str:
    def cell(s: dict) -> str:
        return f"{s['mean']:.3f} [{s['lo']:.3f}, {s['hi']:.3f}]"

    lines = ["| agent | env steps | train wall (min) | episode 1 | late episodes | late minus episode 1 |",
             "|---|---|---|---|---|---|"]
    for name, res in results.items():
        info = runs[name]
        lines.append(f"| {name.replace('_', ' ')} | {info['env_steps']:,} | {info['wall_minutes']} | {cell(res['ep1'])} "
                     f"| {cell(res['late'])} | {cell(res['gain'])} |")
    for name, res in refs.items():
        lines.append(f"| {LABELS[name]} | - | - | {cell(res['ep1'])} | {cell(res['late'])} | {cell(res['gain'])} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", help="NAME=RUN_DIR (NAME one of %s); default: runs/<name>" % list(AGENTS))
    parser.add_argument("--trials", type=int, default=200, help="trials per agent (>= 100 for the claims)")
    parser.add_argument("--seed", type=int, default=12345, help="evaluation seed (trials differ from training's)")
    parser.add_argument("--chunk-size", type=int, default=50)
    parser.add_argument("--probe-trials", type=int, default=32)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/darkroom"))
    args = parser.parse_args(argv)
    given = dict(a.split("=", 1) for a in args.runs)
    unknown = sorted(set(given) - set(AGENTS))
    if unknown:
        parser.error(f"unknown agent names {unknown}; allowed: {list(AGENTS)}")
    dirs = {name: Path(given.get(name, f"runs/{run}")) for name, run in AGENTS.items()}
    missing = [str(d) for n, d in dirs.items() if n not in given and not d.exists()]
    if not any(d.exists() for d in dirs.values()):
        raise SystemExit(f"no agent found (looked for {sorted(map(str, dirs.values()))}); train the main one: "
                         "embodied train +experiment=incontext_darkroom")
    started = time.monotonic()
    runs = {name: describe(d) for name, d in dirs.items() if d.exists()}
    first = runs.get("main") or next(iter(runs.values()))  # the main agent's trials, else the first found
    episodes, env = first["episodes"], first["env"]
    results, refs = {}, {}
    for name, info in runs.items():
        print(f"evaluating {name} ({info['checkpoint']}) ...", file=sys.stderr)
        rows = run_trials(info["checkpoint"], env, args.trials, episodes, args.seed, args.chunk_size)
        results[name] = summary(rows, episodes)
    for name in REFERENCES:
        rows = run_trials(name, env, args.trials, episodes, args.seed, args.chunk_size)
        refs[name] = summary(rows, episodes)
    main = results.get("main")
    probe = main and attention_probe(runs["main"]["checkpoint"], env, args.probe_trials, episodes, args.seed)

    out: dict = {"trials": args.trials, "episodes": episodes, "split": "test", "env": env, "not_found": missing}
    for name, res in results.items():
        out[f"{name}_return_late_over_optimal"] = res["late"]["mean"]
        out[f"{name}_return_late_over_optimal_ci"] = [res["late"]["lo"], res["late"]["hi"]]
        out[f"{name}_return_ep1_over_optimal"] = res["ep1"]["mean"]
        out[f"{name}_return_ep1_over_optimal_ci"] = [res["ep1"]["lo"], res["ep1"]["hi"]]
        out[f"{name}_env_steps"] = runs[name]["env_steps"]
        out[f"{name}_train_wall_minutes"] = runs[name]["wall_minutes"]
    for name, res in refs.items():
        out[f"{LABELS[name].split(' ')[0].replace('-', '_')}_return_late_over_optimal"] = res["late"]["mean"]
        out[f"{LABELS[name].split(' ')[0].replace('-', '_')}_return_ep1_over_optimal"] = res["ep1"]["mean"]
    control = results.get("no_inter_episode")
    if main is not None:
        out["targets_met"] = {
            "main_late_ge_0.80": main["late"]["mean"] >= 0.80,
            "main_ep1_le_0.60": main["ep1"]["mean"] <= 0.60,
            "no_inter_episode_late_le_0.60": None if control is None else control["late"]["mean"] <= 0.60,
            "intervals_apart": None if control is None else main["late"]["lo"] > control["late"]["hi"],
            "main_trained_within_60_min": runs["main"]["wall_minutes"] <= 60}
    out["attention_probe"] = probe
    out["wall_s"] = round(time.monotonic() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    plot(results, refs, runs, args.out / "incontext_darkroom.png")
    write_atomic(args.out / "table.md", table(results, refs, runs))
    write_atomic(args.out / "metrics.json", json.dumps(json_safe({**out, "runs": runs, "results": results,
                                                                    "references": refs}), indent=1) + "\n")
    return out


if __name__ == "__main__":
    print(json.dumps(json_safe(main(sys.argv[1:]))))
