"""``embodied sim``: run a built-in policy on a split of houses: ``oracle``, ``random``, or a scripted frontier
explorer without (``explorer``) or with (``explorer_memory``) its map across the episodes of a trial.

    embodied sim policy=oracle split=val episodes=200 [video=PATH.mp4] [metrics=PATH.json]

Prints mean success, SPL, soft-SPL, distance to goal and episode length; writes them (and every
episode's metrics and spec) to ``metrics`` as JSON, and the first episode as an H.264 MP4 (first-person
RGB | depth | top-down map, HUD) to ``video``. Each env contributes an equal share of the episodes (the
first ones it finishes), so short episodes are not over-represented. The episodes are those of the loop
``embodied eval`` runs (embodied/rollout/episodes.py); a row also has its return and episode index.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from embodied.atomic import write_atomic
from embodied.config import Reads, check, choice, positive_int
from embodied.rollout.episodes import Episodes, Hook

SPLITS = ("train", "val", "test")


def _path(cfg: DictConfig | Reads, key: str, suffix: str) -> Path | None:
    value = check(cfg, key, lambda v: v is None or (isinstance(v, str) and v.lower().endswith(suffix)),
                  f"null or a path ending in {suffix}")
    return None if value is None else Path(value)


def _write_json(path: Path, data: dict) -> None:
    write_atomic(path, json.dumps(data, indent=2))


def main(argv: list[str]) -> int:
    """``policy=`` is sim's own key here, not the training config group of that name."""
    from embodied.config import load_keys

    return run(load_keys("sim", argv), argv)


def run(cfg: DictConfig | Reads, overrides: list[str] = ()) -> int:
    """``overrides``: the command line's ``key=value`` items; one that names a key nothing reads is an error."""
    import envs

    from embodied.rollout.actor import BUILTIN, make_actor

    cfg = cfg if isinstance(cfg, Reads) else Reads(cfg)
    policy = choice(cfg, "policy", [*BUILTIN, *envs.scripted_agents("house")])
    split = choice(cfg, "split", SPLITS)
    episodes = positive_int(cfg, "episodes")
    num_envs = positive_int(cfg, "num_envs")
    seed = check(cfg, "seed", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
                 "a non-negative integer")
    choice(cfg, "env.name", ["house"])
    positive_int(cfg, "env.resolution")
    positive_int(cfg, "env.episodes_per_trial")
    positive_int(cfg, "env.max_steps")
    video, metrics_path = _path(cfg, "video", ".mp4"), _path(cfg, "metrics", ".json")
    video_size = check(cfg, "video_size", lambda v: isinstance(v, int) and v >= 32 and v % 2 == 0,
                       "an even integer >= 32")
    video_fps = positive_int(cfg, "video_fps")

    env_cfg = cfg.plain("env", replaced=("split", "num_envs", "seed"))  # set here, from the keys above
    env_cfg.update(split=split, num_envs=min(num_envs, episodes), seed=seed)
    cfg.reject_unread(overrides, "sim")
    env = envs.make(**env_cfg)
    n = env.num_envs
    quota = np.full(n, episodes // n) + (np.arange(n) < episodes % n)
    actor = make_actor(policy, seed=seed)
    specs = _Specs()
    writer = _Video(video, video_size, video_fps) if video else None
    loop = Episodes(env, actor, quota, seed, [specs, *([writer] if writer else [])])
    records: list[dict] = []
    start = time.perf_counter()
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(f"sim {policy} on {split}", total=episodes)
        for row in loop:
            records.append({**row, "spec": specs.ended[row["env"]]})
            bar.advance(task)
    elapsed, steps = time.perf_counter() - start, loop.steps
    if writer:
        writer.close()
    summary = {k: float(np.mean([r[k] for r in records])) for k in env.metric_keys}
    result = {"policy": policy, "split": split, "episodes": len(records), "seed": seed, "num_envs": n,
              "env": env_cfg, "env_steps": steps * n, "seconds": round(elapsed, 3), "mean": summary,
              "per_episode": records}
    print(f"{policy} on {split}: {len(records)} episodes, {steps * n} env steps in {elapsed:.1f}s")
    for k, v in summary.items():
        print(f"  {k:18s} {v:.4f}")
    if metrics_path:
        _write_json(metrics_path, result)
        print(f"metrics: {metrics_path}")
    if video:
        print(f"video: {video}")
    env.close()
    return 0


class _Specs(Hook):
    """Each env's episode spec: of its running episode, and of the one that just ended (for its row)."""

    def reset(self, env, obs):
        self.running = [env.episode_spec(i) for i in range(env.num_envs)]
        self.ended: list[dict | None] = [None] * env.num_envs

    def after(self, env, actions, obs, reward, info):
        for i in np.flatnonzero(obs["is_last"]):
            self.ended[i], self.running[i] = self.running[i], env.episode_spec(i)


class _Video(Hook):
    """Env 0's first episode as an H.264 MP4: first-person RGB | depth | top-down map, with a HUD."""

    def __init__(self, path: Path, size: int, fps: int):
        from embodied.replay.video import VideoWriter

        self.writer, self.size, self.fps = VideoWriter(path, fps=fps), size, fps
        self.total, self.t, self.active = 0.0, 0, True
        self.pending: tuple | None = None

    def before(self, env, obs, actions):
        """Remember what the actor sees and the top-down map before the action is applied."""
        if self.active:
            self.pending = (obs["rgb"][0].copy(), obs["depth"][0].copy(), env.render_topdown(0, self.size),
                            int(obs["episode_index"][0]), int(np.argmax(obs["goal"][0])), int(actions[0]),
                            env.max_steps)

    def after(self, env, actions, obs, reward, info):
        from embodied.replay import frames
        from envs.house import categories

        if not self.active:
            return
        rgb, depth, top, ep, goal, action, steps = self.pending
        done = bool(obs["is_last"][0])
        self.total += float(reward[0])
        outcome = ("success" if info["success"][0] == 1 else "failure") if done else None
        hud = frames.hud_items(self.t, steps, ep, categories.NAMES[goal], action, float(reward[0]), self.total,
                               outcome)
        frame = frames.compose(rgb, depth, top, hud, size=self.size)
        for _ in range(self.fps if done else 1):  # hold the last view for a second
            self.writer.write(frame)
        self.t += 1
        if done:
            self.close()

    def close(self) -> None:
        if self.active:
            self.writer.close()
            self.active = False
