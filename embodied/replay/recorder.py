"""Record episodes of a batched env into episode files, selecting which ones to keep.

Training and evaluation use it the same way, beside their env loop::

    rec = EpisodeRecorder("runs/x/episodes", which="failures")   # "all" | "every:K" | "failures" | "none"
    obs = env.reset(seed)
    rec.reset(env, obs)
    while ...:
        action = policy(obs)
        obs, reward, done, info = env.step({"action": action})
        rec.step(env, action, obs, reward, info)              # writes the episodes that just ended
    rec.written                                                # paths of the files written so far

``step`` must see every transition of the env (it keeps the running episodes itself). The env must
provide ``episode_spec(i)`` (JSON-able, restarts env i's current episode) and ``agent_pose(i)``.
Optionally pass ``attention``: per env, the attention mass that the step which chose ``action`` put on
each earlier step of the trial (1-D, oldest first, any length up to the steps seen so far in the trial;
``None`` where there is none); the recorder keeps the ``attention_topk`` heaviest with their positions.
With ``frames=True`` the RGB (and depth) observations are stored as well.

Several recorders (e.g. one per Ray worker) may write into one folder: give each its own ``prefix``.
``max_trials`` stops recording an env after that many trials (evaluation runs one trial per env).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from embodied.replay.episode_file import SUFFIX, Episode, write

_FRAME_KEYS = ("rgb", "depth")


def pose_array(pose) -> np.ndarray:
    """An env's ``agent_pose(i)`` (a dict such as ``{"x", "y", "heading", "pitch"}`` or a sequence) as a
    float32 vector whose first two entries are the position in metres."""
    if isinstance(pose, dict):
        pose = list(pose.values())
    return np.asarray(pose, np.float32).reshape(-1)


def parse_which(which: str) -> tuple[str, int]:
    """``"all"``, ``"none"``, ``"failures"`` or ``"every:K"`` (K ≥ 1) → (mode, K)."""
    m = re.fullmatch(r"every:(\d+)", str(which))
    if m and int(m.group(1)) >= 1:
        return "every", int(m.group(1))
    if which in ("all", "none", "failures"):
        return str(which), 1
    raise ValueError(f"record={which!r} is not allowed; allowed values: all, none, failures, every:K (K >= 1)")


class _Running:
    """The episode in progress in one env, plus the poses of the whole trial for attention."""

    def __init__(self, spec: dict, trial: int, episode_index: int, trial_poses: list):
        self.spec, self.trial, self.episode_index, self.trial_poses = spec, trial, episode_index, trial_poses
        self.has_attention = False
        self.actions: list[int] = []
        self.rewards: list[float] = []
        self.poses: list[np.ndarray] = []
        self.frames: dict[str, list[np.ndarray]] = {}
        self.att_pos: list[np.ndarray] = []
        self.att_mass: list[np.ndarray] = []


class EpisodeRecorder:
    """Keeps the running episode of every env of a batch and writes the selected ones when they end."""

    def __init__(self, directory: str | os.PathLike, which: str = "all", frames: bool = False,
                 backend: str = "house", prefix: str = "", attention_topk: int = 32,
                 meta: dict[str, Any] | None = None, max_trials: int | None = None):
        self.directory = Path(directory)
        self.mode, self.every = parse_which(which)
        self.frames, self.backend, self.prefix = frames, backend, prefix
        self.topk = attention_topk
        self.meta = dict(meta or {})
        self.max_trials = max_trials  # episodes of later trials (per env) are not kept
        self.completed = 0  # episodes that ended, recorded or not
        self.written: list[Path] = []
        self._running: list[_Running | None] = []
        self._trials: list[int] = []

    def reset(self, env, obs: dict[str, np.ndarray]) -> None:
        """Start recording after ``env.reset``: every env begins a new trial."""
        n = len(obs["is_first"])
        if "rgb" in obs:  # the simulator must be restarted at the same resolution to replay bit-exactly
            self.meta.setdefault("resolution", int(obs["rgb"].shape[1]))
        self._running = [None] * n
        self._trials = [-1] * n
        for i in range(n):
            self._begin(env, obs, i)

    def _begin(self, env, obs, i: int) -> None:
        prev = self._running[i]
        if obs["is_trial_first"][i] or prev is None:
            self._trials[i] += 1
            trial_poses: list = []
        else:
            trial_poses = prev.trial_poses
        self._running[i] = run = _Running(env.episode_spec(i), self._trials[i], int(obs["episode_index"][i]),
                                          trial_poses)
        self._observe(env, obs, i, run)

    def _observe(self, env, obs, i: int, run: _Running) -> None:
        pose = pose_array(env.agent_pose(i))
        run.poses.append(pose)
        run.trial_poses.append(pose[:2])
        if self.frames:
            for k in _FRAME_KEYS:
                if k in obs:
                    run.frames.setdefault(k, []).append(np.array(obs[k][i]))

    def step(self, env, action, obs: dict[str, np.ndarray], reward, info: dict[str, np.ndarray],
             attention: list[np.ndarray | None] | None = None) -> list[Path]:
        """Account for one ``env.step``; returns the files written by this call."""
        if not self._running:
            raise RuntimeError("EpisodeRecorder.step before reset: call rec.reset(env, obs) after env.reset")
        action = np.asarray(action).reshape(-1)
        reward = np.asarray(reward, np.float32).reshape(-1)
        out = []
        for i, run in enumerate(self._running):
            run.actions.append(int(action[i]))
            run.rewards.append(float(reward[i]))
            self._attend(run, None if attention is None else attention[i])
            if obs["is_last"][i]:
                path = self._finish(i, run, {k: float(v[i]) for k, v in info.items()
                                             if np.ndim(v) == 1 and len(v) == len(action)})
                if path is not None:
                    out.append(path)
                self._begin(env, obs, i)
            else:
                self._observe(env, obs, i, run)
        return out

    def _attend(self, run: _Running, mass: np.ndarray | None) -> None:
        if mass is None:
            run.att_pos.append(np.zeros((self.topk, 2), np.float32))
            run.att_mass.append(np.zeros(self.topk, np.float32))
            return
        mass = np.asarray(mass, np.float32).reshape(-1)[-len(run.trial_poses):]
        positions = np.asarray(run.trial_poses[-len(mass):], np.float32)
        top = np.argsort(-mass, kind="stable")[:self.topk]
        pos = np.zeros((self.topk, 2), np.float32)
        val = np.zeros(self.topk, np.float32)
        pos[:len(top)], val[:len(top)] = positions[top], mass[top]
        run.att_pos.append(pos)
        run.att_mass.append(val)
        run.has_attention = True

    def _selected(self, metrics: dict[str, float]) -> bool:
        index = self.completed
        self.completed += 1
        if self.mode == "all":
            return True
        if self.mode == "every":
            return index % self.every == 0
        if self.mode == "failures":
            return metrics.get("success", 0.0) < 0.5
        return False

    def _finish(self, i: int, run: _Running, metrics: dict[str, float]) -> Path | None:
        if self.max_trials is not None and run.trial >= self.max_trials:
            return None
        if not self._selected(metrics):
            return None
        attention = run.has_attention
        ep = Episode(
            backend=self.backend, spec=run.spec, actions=np.array(run.actions), rewards=np.array(run.rewards),
            poses=np.stack(run.poses), metrics=metrics,
            meta={**self.meta, "env": i, "trial": run.trial, "episode_index": run.episode_index},
            frames={k: np.stack(v) for k, v in run.frames.items()},
            attention_pos=np.stack(run.att_pos) if attention else None,
            attention_mass=np.stack(run.att_mass) if attention else None)
        name = (f"{self.prefix}env{i:03d}-trial{run.trial:03d}-"
                f"ep{ep.meta['episode_index']:03d}-{self.completed - 1:06d}{SUFFIX}")
        path = write(ep, self.directory / name)
        self.written.append(path)
        return path
