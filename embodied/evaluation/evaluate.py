"""Evaluate one policy (and its reference policies) on unseen houses: run, summarise, write the report.

Outputs in the run folder: ``metrics.json`` (the per-episode-index curve with 95% CIs for every policy
run, overall means, and the config), ``episodes.jsonl`` (one row per episode), ``curve.png``,
``episodes/`` (recorded episode files), ``videos/`` (MP4 replays of some recorded episodes of the agent)
and ``report.html`` linking all of them.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from embodied.evaluation import stats
from embodied.evaluation.runner import Task, chunks, run_inprocess, run_ray
from embodied.rollout.cluster import ray_started
from embodied.atomic import write_atomic

ROW_KEYS = ("policy", "trial", "episode_index")  # the rest of a row are metrics


@dataclasses.dataclass
class EvalSettings:
    policy: str
    split: str = "test"
    trials: int = 20
    episodes: int = 5
    fewshot: int = 0
    seed: int = 0
    env: dict[str, Any] = dataclasses.field(default_factory=lambda: {"name": "house", "resolution": 64})
    # the backend and its keys (the house: split, resolution and the trial variant the policy trained on)
    references: tuple[str, ...] = ()
    greedy: bool = False
    cluster: str = "local"
    address: str | None = None
    workers: int | None = None
    chunk_size: int = 4
    record: str = "failures"
    record_frames: bool = False
    videos: int = 4
    video_size: int = 256


def trial_variant(train_cfg: Any) -> dict[str, Any]:
    """The house env's task options (``goal_per``, ``start_per``, ``gps_frame``, ``goal_position``) a checkpoint
    was trained with: it is evaluated on the same task."""
    env = train_cfg.get("env") or {}
    out: dict[str, Any] = {k: str(env[k]) for k in ("goal_per", "start_per", "gps_frame")
                           if env.get(k) not in (None, "episode")}
    if env.get("goal_position"):
        out["goal_position"] = True
    return out


def policy_label(policy: str) -> str:
    """Short name of a policy for plots and tables (checkpoint paths by their file or folder name)."""
    return policy if policy in ("oracle", "random") else Path(policy).name


def run_policy(s: EvalSettings, policy: str, out: Path, progress=None, record: bool = True) -> list[dict]:
    """All trials of one policy; rows sorted by (trial, episode index)."""
    kw: dict[str, Any] = dict(episodes=s.episodes, seed=s.seed, env=s.env,
                              fewshot=s.fewshot if policy == s.policy else 0,
                              greedy=s.greedy, record=s.record if record else "none",
                              record_dir=str(out / "episodes"), record_frames=s.record_frames)
    tasks: list[Task] = chunks(policy, s.trials, s.chunk_size, **kw)
    if s.cluster == "inprocess":
        parts = run_inprocess(tasks, progress)
    else:
        parts = run_ray(tasks, address=s.address if s.cluster == "ray" else None, workers=s.workers,
                        progress=progress)
    rows = [r for part in parts for r in part]
    return sorted(rows, key=lambda r: (r["trial"], r["episode_index"]))


def summarise(rows: list[dict], episodes: int) -> dict:
    metrics = sorted({k for r in rows for k in r if k not in ROW_KEYS})
    return {"curve": stats.curve(rows, metrics, episodes),
            "overall": {m: stats.summarize(m, (r.get(m, float("nan")) for r in rows)) for m in metrics},
            "episodes": len(rows)}


def evaluate(s: EvalSettings, out: str | os.PathLike) -> dict:
    """Run the agent and its references with a progress bar, then write metrics, plot and report."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from embodied.evaluation.plot import plot_curves
    from embodied.evaluation.report import write_report

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("episodes", "videos"):  # a re-run into the same folder must not mix in old episodes
        shutil.rmtree(out / stale, ignore_errors=True)
    policies = [s.policy] + [r for r in s.references if r != s.policy]
    results: dict[str, dict] = {}
    all_rows: list[dict] = []
    started = time.time()
    cluster = contextlib.nullcontext() if s.cluster == "inprocess" else ray_started(
        s.address if s.cluster == "ray" else None, num_cpus=s.workers, join=s.cluster == "ray")
    with cluster, Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("episodes"), TimeElapsedColumn()) as bar:  # one Ray for all policies
        for p in policies:
            task = bar.add_task(f"eval {policy_label(p)} on {s.split}", total=s.trials * s.episodes)
            rows = run_policy(s, p, out, progress=lambda k, t=task: bar.advance(t, k), record=(p == s.policy))
            results[policy_label(p)] = summarise(rows, s.episodes)
            all_rows += [{**r, "policy": policy_label(p)} for r in rows]
    agent = policy_label(s.policy)
    curves = {name: r["curve"] for name, r in results.items()}
    plot = plot_curves(curves, agent, out / "curve.png", fewshot=s.fewshot,
                       title=f"{agent} on {s.split} houses: {s.trials} trials x {s.episodes} episodes (95% CI)")
    videos = _replay_some(s, out) if s.videos > 0 and s.record != "none" else []
    metrics = {"agent": agent, "split": s.split, "trials": s.trials, "episodes": s.episodes,
               "fewshot": s.fewshot, "seconds": round(time.time() - started, 2),
               "config": {**dataclasses.asdict(s), "references": list(s.references)},
               "policies": results, "plot": plot.name,
               "videos": [{**v, "video": Path(v["video"]).relative_to(out).as_posix(),
                           "poster": Path(v["poster"]).relative_to(out).as_posix()} for v in videos]}
    _write_json(out / "metrics.json", metrics)
    _write_lines(out / "episodes.jsonl", all_rows)
    write_report(out, metrics)
    return metrics


def _replay_some(s: EvalSettings, out: Path) -> list[dict]:
    """Replay up to ``s.videos`` recorded episodes of the agent (spread over episode indices)."""
    from embodied.replay.episode_file import find
    from embodied.replay.replayer import ReplayDivergence, replay

    folder = out / "episodes"
    if not folder.is_dir() or not any(folder.iterdir()):
        return []
    by_index: dict[int, list[Path]] = {}
    for f in find([folder]):
        m = re.search(r"-ep(\d+)-", f.name)
        by_index.setdefault(int(m.group(1)) if m else -1, []).append(f)
    rounds = [[files[k] for files in by_index.values() if k < len(files)] for k in range(max(map(len, by_index.values())))]
    picked = [f for r in rounds for f in r][:s.videos]  # spread over episode indices, then trials
    results = []
    for f in picked:
        try:
            r = replay(f, out / "videos" / (f.stem + ".mp4"), size=s.video_size)
        except ReplayDivergence as e:  # the metrics stand; the report just lacks this video
            print(f"warning: no video for {f.name}: {e}", file=sys.stderr)
            continue
        results.append({"video": str(r.video), "poster": str(r.poster), "episode": str(f.relative_to(out)),
                        "metrics": r.metrics, "size": [r.width // 2, r.height // 2]})
    return results


def json_safe(obj: Any) -> Any:
    """NaN and infinities become null, so every JSON reader (browsers included) accepts the file."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def _write_json(path: Path, obj: Any) -> None:
    write_atomic(path, json.dumps(json_safe(obj), indent=1, allow_nan=False) + "\n")


def _write_lines(path: Path, rows: list[dict]) -> None:
    write_atomic(path, "".join(json.dumps(json_safe(r), allow_nan=False) + "\n" for r in rows))
