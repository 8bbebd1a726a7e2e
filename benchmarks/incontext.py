"""In-context learning on unseen houses (issue 8): the per-episode-index success curve of trained agents.

Evaluates checkpoints (files or the run directories ``embodied train +experiment=incontext_house`` and its
variants write) on the test houses with the ``embodied eval`` machinery, with the training run's own
resolution and episode cap, and reports:

- for every variant: success per episode index within a trial (20 episodes in one unseen house) with 95%
  Wilson intervals, plus the oracle and random references on the same houses;
- ``gain_11_20_over_1`` for the main agent: mean success over episodes 11-20 minus episode 1 (paired per
  trial, Student-t 95% interval), each side's interval and whether they overlap; the same for the scripted
  memory references (``explorer_memory_gain_11_20_over_1``, ``explorer_gain_11_20_over_1``: the frontier
  explorer with and without its map across episodes, the gain memory makes possible);
- ``main_minus_control_11_20``: the main agent's success over episodes 11-20 minus the no-inter-episode
  control's (paired per trial: both run the same houses, goals and starts), with its interval;
- with ``--cut-memory``, ``main_minus_memory_cut_11_20``: the same against the main agent's own weights with
  ``policy.inter_episode`` false (its memory of earlier episodes cut), how much of its success is memory;
- with ``--replay``, ``replay_minus_control_11_20``: the control replaying the actions of its first success in
  each trial, minus the control itself (paired): what a memory that only copies the way that worked could add
  to this navigator, in trials whose episodes start alike (``start_per: trial``); with the probes, the copy
  probe: for every variant, on the steps of later episodes where it has so far walked exactly the way of its own
  first success in the trial, the share of its actions that continue that way;
- the attention probe: per layer, the share of the main agent's attention (of steps in episodes 2+) that
  goes to earlier episodes of the trial, beside the share uniform attention would give;
- the memory probe: for every variant, on the steps where the scripted explorer with the trial's map and
  the one without it would act differently, the share of the agent's actions that follow each;
- context extrapolation: the main agent, trained on trials of T steps, run on trials of 4T steps (each
  until its episode running at step 4T ends); success of the episodes that start in each quarter [0,T),
  [T,2T), [2T,3T), [3T,4T) of the trial (per trial, then over trials), and the last quarter minus episode 1.

    python benchmarks/incontext.py                       # runs/incontext_house* (or the shipped checkpoint)
    python benchmarks/incontext.py main=runs/incontext_house gru=runs/incontext_house_gru --trials 40

Writes metrics.json, incontext.png and table.md into ``--out`` (default benchmarks/results/incontext) and
prints one JSON object as the last line of stdout. Without any trained checkpoint it fails naming what it
looked for: it never reports numbers it did not measure.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from embodied.evaluation import runner, stats
from embodied.evaluation.evaluate import json_safe, trial_variant
from embodied.learner import checkpoint
from embodied.atomic import write_atomic

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "incontext"
SHIPPED = RESULTS / "incontext_house.pt"  # the small checkpoint the README's command evaluates
# Variant name -> run directory of `embodied train +experiment=incontext_house name=<dir>` (see the yaml header).
VARIANTS = {"main": "incontext_house", "no_inter_episode": "incontext_house_intra", "gru": "incontext_house_gru",
            "sink_none": "incontext_house_sink_none", "sink_kv": "incontext_house_sink_kv"}
REFERENCES = ("oracle", "random", "explorer", "explorer_memory")  # explorers: envs/house/explorer.py
CONTROL = "no_inter_episode"
CUT = "main_memory_cut"  # --cut-memory: the main agent's own weights with its memory across episodes cut
REPLAY = "control_replay"  # --replay: the control replaying its first success of each trial (ReplaySuccess)


class MissingCheckpoints(RuntimeError):
    """No trained checkpoint to evaluate; the message names where the benchmark looked."""


def find_checkpoints(specs: list[str], runs_dir: Path, shipped: Path = SHIPPED) -> dict[str, Path]:
    """``{variant: checkpoint file}`` from ``NAME=PATH`` / ``PATH`` arguments, else the recipe's run dirs
    (and, for the main agent, the checkpoint shipped with the results when its run dir is absent)."""
    if specs:
        found = {}
        for spec in specs:
            name, _, path = spec.rpartition("=")
            path = Path(path)
            if not path.exists():
                raise MissingCheckpoints(f"{path} does not exist (argument {spec!r})")
            found[name or (path.name if path.is_dir() else path.stem)] = checkpoint.resolve(path)
        return found
    found, looked = {}, []
    for name, folder in VARIANTS.items():
        run = runs_dir / folder
        looked.append(str(run))
        if any(checkpoint.checkpoint_dir(run).glob("ckpt-*.pt")):
            found[name] = checkpoint.latest(run)
    if "main" not in found and shipped.exists():
        found["main"] = shipped
    if "main" not in found:
        raise MissingCheckpoints(
            f"no trained checkpoint of the main agent: no ckpt-*.pt under {runs_dir / VARIANTS['main']}/checkpoints "
            f"and no {shipped}; train it with `embodied train +experiment=incontext_house` or pass "
            f"NAME=PATH arguments (also looked for variants in {', '.join(looked[1:])})")
    return found


def export_for_eval(src: Path, dst: Path, memoryless: bool = False) -> Path:
    """An evaluation-only copy of a checkpoint (weights, config, spaces, counters; optimiser and scheduler
    state dropped, so it is about a third of the size) that `embodied eval` and this benchmark load.
    ``memoryless``: with ``policy.inter_episode`` false, the same weights acting with their state (or
    attention) cut at every episode: what the agent does when its memory of earlier episodes is taken away."""
    data = checkpoint.read(checkpoint.resolve(src))
    data.update(optimizer={}, scheduler={}, evaluation_only=True)
    if memoryless:
        data["config"]["policy"]["inter_episode"] = False
    dst.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(dst, lambda tmp: torch_save(data, tmp))
    checkpoint.load_policy(dst)  # fails, naming the file, if the copy does not load
    return dst


def torch_save(data: dict, path: Path) -> None:
    import torch

    torch.save(data, path)


def describe(file: Path) -> dict:
    """What the evaluation needs from a checkpoint's training config (and what to report about it)."""
    data = checkpoint.read(file)
    cfg = checkpoint.config_of(data)
    return {"checkpoint": str(file), "policy": cfg.policy.get("cell", cfg.policy.name), "sink": cfg.policy.get("sink"),
            "inter_episode": cfg.policy.get("inter_episode"), "env_steps": int(data["counters"]["env_steps"]),
            "resolution": int(cfg.env.resolution), "max_steps": int(cfg.env.max_steps),
            "context_T": int(cfg.trainer.rollout_steps), "task": trial_variant(cfg)}


def run_trials(policy: str, args: argparse.Namespace, env: dict, trials: int, episodes: int, progress,
               trial_steps: int | None = None) -> list[dict]:
    """One row per episode (trial, episode_index, metrics), as `embodied eval` runs them, sorted; with
    ``trial_steps``, every trial's episodes up to the one running at that step (``episodes``: a bound)."""
    tasks = runner.chunks(policy, trials, args.chunk_size, episodes=episodes, seed=args.seed, env=env,
                          greedy=args.greedy, max_episode_steps=env["max_steps"], trial_steps=trial_steps)
    if args.cluster == "inprocess":
        parts = runner.run_inprocess(tasks, progress)
    else:
        parts = runner.run_ray(tasks, workers=args.workers, progress=progress)
    return sorted((r for part in parts for r in part), key=lambda r: (r["trial"], r["episode_index"]))


def success_matrix(rows: list[dict], episodes: int) -> np.ndarray:
    """(trials, episodes) success, NaN where a trial lacks an episode."""
    trials = sorted({r["trial"] for r in rows})
    index = {t: i for i, t in enumerate(trials)}
    out = np.full((len(trials), episodes), np.nan)
    for r in rows:
        if r["episode_index"] < episodes:
            out[index[r["trial"]], r["episode_index"]] = r["success"]
    return out


def gain(success: np.ndarray, late: slice = slice(10, 20), first: int = 0) -> dict:
    """Mean success over episodes ``late`` minus episode ``first``, with 95% intervals (trials independent)."""
    late_means = np.nanmean(success[:, late], axis=1)
    diff = late_means - success[:, first]
    ok = ~np.isnan(diff)
    first_ci = stats.summarize("success", success[ok, first])
    late_lo, late_hi = stats.t_interval(late_means[ok])
    gain_lo, gain_hi = stats.t_interval(diff[ok])
    late_ci = {"mean": float(np.mean(late_means[ok])), "lo": max(0.0, late_lo), "hi": min(1.0, late_hi),
               "n": int(ok.sum())}
    return {"mean": float(np.mean(diff[ok])), "lo": gain_lo, "hi": gain_hi, "n": int(ok.sum()),
            "episode_1": first_ci, "episodes_11_20": late_ci,
            "ci_overlap": bool(late_ci["lo"] <= first_ci["hi"] and first_ci["lo"] <= late_ci["hi"]),
            "meets_issue_bar": bool(np.mean(diff[ok]) >= 0.15 and late_ci["lo"] > first_ci["hi"])}


def extrapolation(rows: list[dict], T: int, factor: int) -> dict:
    """Success in each T-long segment of the trial (up to factor * T steps): per trial, the mean success of its
    episodes that start in the segment, then the mean over trials, so a trial weighs the same in every segment
    (pooling episodes would weigh quick successes more and let trials that end early leave the later segments
    to the slow ones); beside episode 1, over the same trials."""
    per_trial: dict[int, list[list[float]]] = {}
    starts: dict[int, int] = {}
    first: dict[int, float] = {}
    for r in rows:  # sorted by trial, then episode index
        start = starts.get(r["trial"], 0)
        starts[r["trial"]] = start + int(r["episode_length"])
        buckets = per_trial.setdefault(r["trial"], [[] for _ in range(factor)])
        if r["episode_index"] == 0:
            first[r["trial"]] = r["success"]
        if start < factor * T:
            buckets[start // T].append(r["success"])
    reached = sum(1 for s in starts.values() if s >= factor * T)
    segments = [stats.summarize("success", [float(np.mean(b[k])) for b in per_trial.values() if b[k]])
                for k in range(factor)]
    last, one = segments[-1], stats.summarize("success", list(first.values()))
    return {"context_T": T, "trial_steps": factor * T, "trials": len(starts), "trials_reaching_end": reached,
            "success_by_segment": segments, "episode_1": one,
            "last_segment_minus_episode_1": last["mean"] - one["mean"],
            "collapsed": bool(last["n"] == 0 or last["mean"] < one["mean"])}


def main_minus_control(main: np.ndarray, control: np.ndarray) -> dict:
    """Mean success over episodes 11-20, main minus control, paired per trial, with its 95% interval."""
    diff = np.nanmean(main[:, 10:20], axis=1) - np.nanmean(control[:, 10:20], axis=1)
    diff = diff[~np.isnan(diff)]
    lo, hi = stats.t_interval(diff)
    return {"mean": float(np.mean(diff)), "lo": lo, "hi": hi, "n": int(len(diff)),
            "meets_issue_bar": bool(np.mean(diff) >= 0.10 and lo > 0)}


def policy_actor(file: Path, env: dict, episodes: int, seed: int):
    """The checkpoint ``file`` as an actor with a context long enough for a whole trial."""
    from embodied.rollout.actor import PolicyActor

    net, _ = checkpoint.load_policy(file)
    return PolicyActor(net, max_steps=episodes * int(env["max_steps"]) + 1, seed=seed)


def walk_one_trial(agent, env: dict, trials: int, episodes: int, seed: int, probe) -> None:
    """``agent`` (an actor) in ``trials`` test houses, through the episode loop ``embodied eval`` runs, until
    the first trial ends; ``probe`` (an ``embodied.rollout.episodes.Hook``) sees each step before it is taken."""
    import envs
    from embodied.rollout.episodes import Episodes

    sim = envs.make(**{"name": "house", **env}, num_envs=trials, seed=seed, episodes_per_trial=episodes)
    try:
        for row in Episodes(sim, agent, episodes, seed, [probe]):
            if row["episode_index"] == episodes - 1:  # a trial's last episode: the trial has ended
                return
    finally:
        sim.close()


def attention_by_layer(file: Path, env: dict, trials: int, episodes: int, seed: int) -> dict | None:
    """Per layer: the share of attention that steps of episodes 2+ put on earlier episodes of the trial
    (mean over steps and envs), and the share uniform attention over the visible steps would give. None
    when the policy has no attention to probe."""
    from embodied.rollout.episodes import Hook

    agent = policy_actor(file, env, episodes, seed)
    history: list[np.ndarray] = []  # episode index of every step so far, per env (slot t = step t of the trial)
    shares: list[list[float]] = []
    uniform: list[float] = []

    class Attention(Hook):
        def before(self, sim, obs, actions):
            episode = np.asarray(obs["episode_index"]).copy()
            history.append(episode)
            layers = agent.layer_attention()
            if layers is None:  # the policy has no attention to probe
                return
            shares[:] = shares or [[] for _ in layers]
            past = np.stack(history, 1)  # (B, t + 1)
            for b in np.flatnonzero(episode > 0):
                earlier = past[b] < episode[b]
                for layer, w in enumerate(layers):
                    mass = w[b][:len(earlier)]
                    if mass.sum() > 0:
                        shares[layer].append(float(mass[earlier].sum() / mass.sum()))
                uniform.append(float(earlier.mean()))

    walk_one_trial(agent, env, trials, episodes, seed, Attention())
    if not shares:
        return None
    return {"share_to_earlier_episodes": [stats.summarize("share", s) for s in shares],
            "uniform_share": stats.summarize("share", uniform), "steps": len(history), "trials": trials}


def memory_use(agent, env: dict, trials: int, episodes: int, seed: int) -> dict:
    """Whether ``agent`` (an actor) acts on what it saw in earlier episodes. Along its own trajectory, the scripted
    explorer that keeps its map over the trial and the one that forgets it at every episode are asked for
    their action; on the steps of episodes 2+ where they differ (the earlier episodes' map changes the
    action), the share of the agent's actions that match each, per trial (intervals over trials). An agent
    without memory has no reason to prefer the map's action there; one that uses its memory does."""
    from embodied.rollout.actor import make_actor
    from embodied.rollout.episodes import Hook

    keep, forget = (make_actor(name, seed=seed, backend="house") for name in ("explorer_memory", "explorer"))
    count, with_map, without = np.zeros(trials), np.zeros(trials), np.zeros(trials)

    class Memory(Hook):
        def before(self, sim, obs, actions):
            a, b = keep.act(sim, obs), forget.act(sim, obs)
            differ = (a != b) & (np.asarray(obs["episode_index"]) > 0)
            count[:] += differ
            with_map[:] += differ & (actions == a)
            without[:] += differ & (actions == b)

    walk_one_trial(agent, env, trials, episodes, seed, Memory())
    seen = count > 0
    return {"steps": int(count.sum()), "trials": int(seen.sum()),
            "follows_memory": stats.summarize("share", with_map[seen] / count[seen]),
            "follows_forgetful": stats.summarize("share", without[seen] / count[seen]),
            "memory_minus_forgetful": stats.summarize("share", (with_map - without)[seen] / count[seen])}


def copy_use(agent, env: dict, trials: int, episodes: int, seed: int) -> dict:
    """Whether ``agent`` (an actor) walks again the way of its own first success in the trial. On the steps of
    later episodes where it has so far taken exactly that episode's actions (so it stands where it stood then:
    the house is deterministic and the episodes start alike), the share of its actions that continue that way,
    per trial. A memoryless agent repeats an action there as often as its policy happens to pick it again."""
    from embodied.rollout.actor import SuccessWays
    from embodied.rollout.episodes import Hook

    ways = SuccessWays(trials)
    on_way, follows = np.zeros(trials), np.zeros(trials)

    class Copy(Hook):
        def before(self, sim, obs, actions):
            for b in range(trials):
                copied = ways.next(b)
                if copied is not None:
                    on_way[b] += 1
                    follows[b] += int(actions[b]) == copied

        def after(self, sim, actions, obs, reward, info):
            ways.record(actions)
            for b in np.flatnonzero(obs["is_first"]):
                ways.begin(b, bool(obs["is_trial_first"][b]), bool(info["success"][b] > 0))

    walk_one_trial(agent, env, trials, episodes, seed, Copy())
    seen = on_way > 0
    return {"steps": int(on_way.sum()), "trials": int(seen.sum()),
            "follows_copy": stats.summarize("share", follows[seen] / on_way[seen])}


def plot_attention(probe: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layers = probe["share_to_earlier_episodes"]
    x = np.arange(len(layers))
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    mean = np.array([s["mean"] for s in layers])
    err = np.array([[s["mean"] - s["lo"], s["hi"] - s["mean"]] for s in layers]).T
    ax.bar(x, mean, yerr=err, capsize=4, label="main agent")
    ax.axhline(probe["uniform_share"]["mean"], color="k", ls="--", lw=1, label="uniform over visible steps")
    ax.set_xticks(x, [f"layer {i + 1}" for i in x])
    ax.set(ylabel="attention share to earlier episodes", ylim=(0, 1),
           title=f"steps of episodes 2+ ({probe['trials']} test trials)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)


def plot(curves: dict[str, list[dict]], extra: dict | None, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 2 if extra else 1, figsize=(12 if extra else 7, 4.5), dpi=100, squeeze=False)
    ax = axes[0, 0]
    for name, pts in curves.items():
        x = np.arange(1, len(pts) + 1)
        mean, lo, hi = (np.array([p[k] for p in pts], float) for k in ("mean", "lo", "hi"))
        style = {"oracle": "--", "random": ":"}.get(name, "-")
        line, = ax.plot(x, mean, style, marker="o", ms=3, lw=2 if name == "main" else 1.4, label=name)
        ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.12, lw=0)
    ax.set(xlabel="episode index within the trial", ylabel="success rate (95% CI)", ylim=(-0.03, 1.03),
           title=title)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if extra:
        ax = axes[0, 1]
        seg = extra["success_by_segment"]
        x = np.arange(len(seg))
        mean = np.array([s["mean"] for s in seg], float)
        err = np.array([[s["mean"] - s["lo"], s["hi"] - s["mean"]] for s in seg], float).T
        ax.bar(x, mean, yerr=err, color=["tab:blue"] + ["tab:orange"] * (len(seg) - 1), capsize=4)
        ax.axhline(extra["episode_1"]["mean"], color="k", ls="--", lw=1, label="episode 1")
        T = extra["context_T"]
        ax.set_xticks(x, [f"[{i}T,{i + 1}T)" for i in x])
        ax.set(xlabel=f"where the episode starts in the trial (T = {T} training context)", ylim=(0, 1.03),
               ylabel="success rate (95% CI)", title="context extrapolation (main agent)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)


def table(result: dict) -> str:
    """The markdown table of the README section: success at episode 1, mean over 11-20, the gain."""
    lines = ["| agent | env steps | episode 1 | episodes 11-20 | gain (11-20 minus 1) |", "|---|---|---|---|---|"]
    for name, v in result["variants"].items():
        g = v["gain_11_20_over_1"]
        lines.append(f"| {name} ({v['policy']}) | {v['env_steps']} | {_ci(g['episode_1'])} | "
                     f"{_ci(g['episodes_11_20'])} | {_ci(g)} |")
    for ref in REFERENCES:
        g = result.get(f"{ref}_gain_11_20_over_1")
        if g:
            lines.append(f"| {ref} (scripted) | - | {_ci(g['episode_1'])} | {_ci(g['episodes_11_20'])} | {_ci(g)} |")
    d = result.get("main_minus_control_11_20")
    if d:
        lines += ["", f"Main minus control ({CONTROL}) over episodes 11-20, paired per trial: {_ci(d)}."]
    d = result.get("main_minus_memory_cut_11_20")
    if d:
        lines += ["", f"Main minus its own weights with the memory cut at every episode ({CUT}) over episodes "
                      f"11-20, paired per trial: {_ci(d)}."]
    d = result.get("replay_minus_control_11_20")
    if d:
        lines += ["", f"The control replaying its first success of each trial ({REPLAY}) minus the control over "
                      f"episodes 11-20, paired per trial: {_ci(d)} (what copying the way is worth to it)."]
    probe = result.get("attention_probe")
    if probe:
        shares = ", ".join(f"layer {i + 1} {_ci(s)}" for i, s in enumerate(probe["share_to_earlier_episodes"]))
        lines += ["", f"Attention share to earlier episodes (main, steps of episodes 2+): {shares}; uniform "
                      f"attention over the visible steps would give {probe['uniform_share']['mean']:.3f}."]
    for name, m in result.get("memory_probe", {}).items():
        lines += ["", (f"Memory probe ({name}, {m['steps']} steps of episodes 2+ in {m['trials']} trials where the "
                       f"explorer with the trial's map and the one without would act differently): follows the "
                       f"map's action {_ci(m['follows_memory'])}, the forgetful one's {_ci(m['follows_forgetful'])}"
                       f", difference {_ci(m['memory_minus_forgetful'])}.")]
    for name, m in result.get("copy_probe", {}).items():
        lines += ["", (f"Copy probe ({name}, {m['steps']} steps of later episodes in {m['trials']} trials where it "
                       f"had so far walked exactly the way of its first success in the trial): continues that way "
                       f"{_ci(m['follows_copy'])}.")]
    ex = result.get("extrapolation")
    if ex:
        segs = ", ".join(f"{s['mean']:.3f} (n={s['n']})" for s in ex["success_by_segment"])
        lines += ["", (f"Context extrapolation (main, trained at T={ex['context_T']}, trials of {ex['trial_steps']} "
                      f"steps): success by quarter {segs}; last quarter minus episode 1: "
                      f"{ex['last_segment_minus_episode_1']:+.3f}; collapsed: {ex['collapsed']}.")]
    return "\n".join(lines) + "\n"


def _ci(s: dict) -> str:
    return f"{s['mean']:.3f} [{s['lo']:.3f}, {s['hi']:.3f}]"


def evaluate(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmp:  # holds the memory-cut copy while it is evaluated
        return _evaluate(args, Path(tmp))


def _evaluate(args: argparse.Namespace, tmp: Path) -> dict:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    found = find_checkpoints(args.checkpoints, Path(args.runs_dir))
    main = "main" if "main" in found else next(iter(found))
    if args.cut_memory:
        found[CUT] = export_for_eval(found[main], tmp / "memory_cut.pt", memoryless=True)
    info = {name: describe(file) for name, file in found.items()}
    base = info[main]
    env = {"split": args.split, "resolution": base["resolution"], "max_steps": args.max_steps or base["max_steps"],
           **base["task"]}
    started = time.time()
    result: dict = {"split": args.split, "trials": args.trials, "episodes": args.episodes, "env": env,
                    "main": main, "variants": {}, "references": {}}
    curves: dict[str, list[dict]] = {}
    matrices: dict[str, np.ndarray] = {}
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("episodes"),
                  TimeElapsedColumn(), console=None, transient=False) as bar:
        def job(label: str, policy: str, run_env: dict, trials: int, episodes: int,
                trial_steps: int | None = None) -> list[dict]:
            task = bar.add_task(label, total=None if trial_steps else trials * episodes)
            return run_trials(policy, args, run_env, trials, episodes, lambda k: bar.advance(task, k), trial_steps)

        runs = {name: (str(file), info[name]) for name, file in found.items()}
        if args.replay:  # the copy ceiling: the control (or the agent) replaying its first success of each trial
            of = CONTROL if CONTROL in found else main
            runs[REPLAY] = (f"replay:{found[of]}", info[of])
        for name, (policy, meta) in runs.items():
            v_env = {**{k: v for k, v in env.items() if k not in base["task"]}, **meta["task"],
                     "resolution": meta["resolution"]}
            rows = job(f"{name} on {args.split}", policy, v_env, args.trials, args.episodes)
            curve = stats.curve(rows, ["success", "episode_length"], args.episodes)
            curves[name] = curve["success"]
            result["variants"][name] = {**meta, "evaluated_as": policy, "success": curve["success"],
                                        "episode_length": [p["mean"] for p in curve["episode_length"]],
                                        "gain_11_20_over_1": gain(success_matrix(rows, args.episodes))}
            matrices[name] = success_matrix(rows, args.episodes)
        for ref in () if args.no_references else REFERENCES:
            rows = job(f"{ref} on {args.split}", ref, env, args.trials, args.episodes)
            curves[ref] = result["references"][ref] = stats.curve(rows, ["success"], args.episodes)["success"]
            if ref.startswith("explorer"):
                result[f"{ref}_gain_11_20_over_1"] = gain(success_matrix(rows, args.episodes))
        if CONTROL in matrices and main != CONTROL:
            result["main_minus_control_11_20"] = main_minus_control(matrices[main], matrices[CONTROL])
        if CUT in matrices:
            result["main_minus_memory_cut_11_20"] = main_minus_control(matrices[main], matrices[CUT])
        if REPLAY in matrices:
            of = CONTROL if CONTROL in matrices else main
            result["replay_minus_control_11_20"] = main_minus_control(matrices[REPLAY], matrices[of])
        if args.long_trials:
            T = base["context_T"]
            steps = args.long_factor * T  # every episode takes a step at least: the trial never ends before it
            rows = job(f"{main} on {args.long_factor}T-step trials", str(found[main]), env, args.long_trials, steps, steps)
            result["extrapolation"] = extrapolation(rows, T, args.long_factor)
    if args.probe_trials:
        result["attention_probe"] = attention_by_layer(found[main], env, args.probe_trials, args.episodes, args.seed)
        result["memory_probe"] = {
            name: memory_use(policy_actor(file, env, args.episodes, args.seed), env, args.probe_trials,
                             args.episodes, args.seed) for name, file in found.items()}
        if args.replay:
            result["copy_probe"] = {name: copy_use(policy_actor(file, env, args.episodes, args.seed), env,
                                                   args.probe_trials, args.episodes, args.seed)
                                    for name, file in found.items()}
    if args.ship and found[main] != SHIPPED:
        result["shipped"] = str(export_for_eval(found[main], SHIPPED).relative_to(ROOT))
    result["seconds"] = round(time.time() - started, 1)
    result["gain_11_20_over_1"] = result["variants"][main]["gain_11_20_over_1"]
    if args.out:
        out = Path(args.out)
        text = json.dumps(json_safe(result), indent=1, allow_nan=False) + "\n"
        write_atomic(out / "metrics.json", text)
        write_atomic(out / "table.md", table(result))
        plot(curves, result.get("extrapolation"), out / "incontext.png",
             f"{args.split} houses: {args.trials} trials x {args.episodes} episodes")
        if result.get("attention_probe"):
            plot_attention(result["attention_probe"], out / "attention.png")
    return result


def summary(result: dict) -> dict:
    """The last line: per-episode-index success of each variant and the main agent's gain."""
    out = {"split": result["split"], "trials": result["trials"], "episodes": result["episodes"],
           "success_per_episode": {n: [round(p["mean"], 4) for p in v["success"]] for n, v in result["variants"].items()},
           "reference_success_per_episode": {n: [round(p["mean"], 4) for p in c] for n, c in result["references"].items()},
           "env_steps": {n: v["env_steps"] for n, v in result["variants"].items()},
           "gain_11_20_over_1": result["gain_11_20_over_1"], "seconds": result["seconds"]}
    for key in ("main_minus_control_11_20", "main_minus_memory_cut_11_20", "replay_minus_control_11_20",
                "explorer_memory_gain_11_20_over_1",
                "explorer_gain_11_20_over_1"):
        if key in result:
            out[key] = {k: result[key][k] for k in ("mean", "lo", "hi", "n")}
    if result.get("attention_probe"):
        probe = result["attention_probe"]
        out["attention_share_to_earlier_episodes"] = [round(s["mean"], 4) for s in probe["share_to_earlier_episodes"]]
        out["attention_uniform_share"] = round(probe["uniform_share"]["mean"], 4)
    if result.get("memory_probe"):
        out["memory_probe_memory_minus_forgetful"] = {
            name: {k: m["memory_minus_forgetful"][k] for k in ("mean", "lo", "hi", "n")}
            for name, m in result["memory_probe"].items()}
    if result.get("copy_probe"):
        out["copy_probe_follows_copy"] = {name: {k: m["follows_copy"][k] for k in ("mean", "lo", "hi", "n")}
                                          for name, m in result["copy_probe"].items()}
    if "extrapolation" in result:
        ex = result["extrapolation"]
        out["extrapolation"] = {k: ex[k] for k in ("context_T", "trial_steps", "trials", "trials_reaching_end",
                                                   "last_segment_minus_episode_1", "collapsed")}
        out["extrapolation"]["success_by_segment"] = [round(s["mean"], 4) if s["n"] else None
                                                      for s in ex["success_by_segment"]]
    return json_safe(out)


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoints", nargs="*", help="NAME=PATH or PATH of checkpoints / run dirs (name main = the agent)")
    p.add_argument("--runs-dir", default=str(ROOT / "runs"), help="where the recipe's run directories are")
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--trials", type=int, default=20, help="trials (houses) per variant")
    p.add_argument("--episodes", type=int, default=20, help="episodes per trial")
    p.add_argument("--long-trials", type=int, default=8, help="trials of the extrapolation run (0: skip it)")
    p.add_argument("--long-factor", type=int, default=4, help="extrapolation trials span this many times T steps")
    p.add_argument("--probe-trials", type=int, default=8, help="test trials of the attention and memory probes (0: skip them)")
    p.add_argument("--max-steps", type=int, default=None, help="episode cap; default: the training run's")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--greedy", action="store_true", help="arg-max actions instead of sampling")
    p.add_argument("--no-references", action="store_true", help="skip the oracle and random references")
    p.add_argument("--cut-memory", action="store_true", help=f"also evaluate the main agent's weights with "
                   f"policy.inter_episode false ({CUT}): main_minus_memory_cut_11_20, paired per trial")
    p.add_argument("--replay", action="store_true", help=f"also evaluate the control (or the agent) replaying the "
                   f"actions of its first success in each trial ({REPLAY}, embodied.rollout.actor.ReplaySuccess): "
                   f"replay_minus_control_11_20, what copying the way is worth to this navigator")
    p.add_argument("--cluster", default="local", choices=("local", "inprocess"))
    p.add_argument("--workers", type=int, default=None, help="Ray CPUs (default: all cores)")
    p.add_argument("--chunk-size", type=int, default=4, help="trials per Ray task")
    p.add_argument("--out", default=str(RESULTS), help="folder for metrics.json, incontext.png, table.md ('' : none)")
    p.add_argument("--ship", action="store_true", help=f"also write an evaluation-only copy of the main checkpoint "
                   f"to {SHIPPED.relative_to(ROOT)} (the README's command evaluates it)")
    args = p.parse_args(argv)
    for key in ("trials", "episodes", "long_factor", "chunk_size"):
        if getattr(args, key) <= 0:
            p.error(f"--{key.replace('_', '-')}={getattr(args, key)} is invalid; expected a positive integer")
    if args.episodes < 20:
        p.error(f"--episodes={args.episodes} is invalid; gain_11_20_over_1 needs at least 20 episodes per trial")
    return args


def run(evaluate, args: argparse.Namespace, line) -> int:
    """``evaluate(args)``, then its result's ``line(result)`` as the last line of stdout; a missing or bad
    checkpoint is a JSON error line and exit code 2, never numbers that were not measured."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        result = evaluate(args)
    except (MissingCheckpoints, checkpoint.CheckpointError) as e:
        print(f"error: {e}", file=sys.stderr)
        print(json.dumps({"error": str(e)}))
        return 2
    print(json.dumps(line(result)))
    return 0


def main(argv: list[str]) -> int:
    return run(evaluate, parse(argv), summary)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
