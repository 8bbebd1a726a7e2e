"""Deterministic re-simulation of a recorded episode into an H.264 MP4.

The simulator restarts the exact episode from its spec; each recorded action is replayed and every
step is drawn (first-person RGB | depth | top-down map with path, goal instances and, optionally, the
recorded attention mass over past positions; HUD below). Video frame ``t`` shows observation ``t``,
the action taken there and the reward it earned; the last frame also shows the outcome.

With ``verify`` the re-simulation is checked against the recording at every step (reward, pose, and
frames when they were recorded): a divergence raises :class:`ReplayDivergence` naming the file and step,
instead of silently producing the video of a different episode.
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from embodied.replay import frames as fr
from embodied.replay.episode_file import Episode, read
from embodied.replay.recorder import pose_array
from embodied.replay.video import VideoWriter, write_png


class ReplayDivergence(RuntimeError):
    """The re-simulated episode differs from the recorded one."""


@dataclasses.dataclass
class ReplayResult:
    episode: Path | None
    video: Path
    poster: Path | None  # PNG of the last frame (the outcome), shown before the video plays
    frames: int
    width: int
    height: int
    metrics: dict[str, float]
    meta: dict


def restart(ep: Episode):
    """A one-env simulator positioned at the start of the recorded episode, and its first observation."""
    if ep.backend != "house":
        raise ValueError(f"replay supports the house backend only, not {ep.backend!r}")
    from envs.house import from_spec

    env = from_spec(ep.spec, resolution=ep.meta.get("resolution"))
    return env, env.reset()


class StepRenderer:
    """Draws the frames of one episode; the static part of the map (house, goal instances, success
    region) is drawn once per episode, the path, agent and attention per frame."""

    def __init__(self, env, ep: Episode, size: int = 256, max_depth: float = 10.0, attention: bool = True):
        from envs.house import categories, geodesic, topdown

        house = env.house(0)
        goal = int(ep.spec["goal_id"])
        self.goal = categories.NAMES[goal]
        self.base = topdown.draw(house, size, goal, geodesic.category_fields(house, goal)[1])
        self.env, self.ep, self.size, self.max_depth = env, ep, size, max_depth
        self.attention = attention and ep.attention_mass is not None
        self.buf = np.zeros(fr.frame_shape(size), np.uint8)
        self.map = np.empty_like(self.base)

    def render(self, obs: dict[str, np.ndarray], t: int, total: float, path: np.ndarray | None = None) -> np.ndarray:
        """The frame of step ``t`` from observation ``obs`` and the agent's ``path`` so far (world metres,
        default: the simulator's current one). Returns a view into a buffer reused by the next call."""
        ep, env, size = self.ep, self.env, self.size
        self.map[:] = self.base
        if self.attention and ep.attention_mass[t].any():  # under the path and agent, over the house
            keep = ep.attention_mass[t] > 0
            fr.draw_attention(self.map, np.asarray(env.world_to_map(0, ep.attention_pos[t][keep], size)),
                              ep.attention_mass[t][keep], radius=max(3, size // 40))
        path = env.world_to_map(0, env.episode_path(0) if path is None else path, size)
        fr.draw_agent(self.map, path, float(ep.poses[t][2]), max(4, size // 40))
        outcome = ("success" if ep.success else "failure") if t == len(ep) - 1 else None
        hud = fr.hud_items(t, len(ep), int(obs["episode_index"][0]), self.goal, int(ep.actions[t]),
                           float(ep.rewards[t]), total, outcome)
        depth = obs["depth"][0] if "depth" in obs else None
        return fr.compose(obs["rgb"][0], depth, self.map, hud, size=size, max_depth=self.max_depth, out=self.buf)


def simulate(ep: Episode, name: str = "<episode>", verify: bool = True) -> Iterator[tuple[int, object, dict, float]]:
    """Yield ``(t, env, obs, cumulative reward up to and including t)`` before each recorded action."""
    try:
        env, obs = restart(ep)
    except (ValueError, KeyError) as e:
        raise ReplayDivergence(f"{name}: the simulator cannot restart this episode from its spec: {e}") from e
    total = 0.0
    try:
        for t, action in enumerate(ep.actions):
            if verify:
                _check(ep, env, obs, t, name)
            total += float(ep.rewards[t])
            yield t, env, obs, total
            obs, reward, done, info = env.step({"action": np.array([action])})
            if verify and np.float32(reward[0]) != ep.rewards[t]:
                raise ReplayDivergence(f"{name}: step {t}: reward {float(reward[0])!r} differs from the recorded "
                                       f"{float(ep.rewards[t])!r}")
            if verify and bool(done[0]) != (t == len(ep) - 1):
                raise ReplayDivergence(f"{name}: step {t}: the episode {'ended' if done[0] else 'did not end'} "
                                       f"on re-simulation, unlike the recording ({len(ep)} steps)")
    finally:
        env.close()


def _check(ep: Episode, env, obs, t: int, name: str) -> None:
    pose = pose_array(env.agent_pose(0))
    if pose.shape != ep.poses[t].shape or not np.array_equal(pose, ep.poses[t]):
        raise ReplayDivergence(f"{name}: step {t}: agent pose {pose.tolist()} differs from the recorded "
                               f"{ep.poses[t].tolist()} (simulator or spec changed?)")
    for key, recorded in ep.frames.items():
        if key in obs and not np.array_equal(obs[key][0], recorded[t]):
            raise ReplayDivergence(f"{name}: step {t}: observation {key!r} differs from the recorded frame")


def replay(episode: Episode | str | os.PathLike, out: str | os.PathLike, size: int = 256, fps: int = 10,
           crf: int | None = None, preset: str = "ultrafast", attention: bool = True, verify: bool = True,
           max_depth: float = 10.0, threads: int = 1, poster: bool = True, qp: int | None = None) -> ReplayResult:
    """Re-simulate one episode (an :class:`Episode` or an episode file) and write its MP4 to ``out``
    (and, with ``poster``, the last frame as a PNG beside it). Quality: constant quantiser ``qp`` (the
    faster default, see :mod:`embodied.replay.video`) or constant rate factor ``crf``."""
    path = None if isinstance(episode, Episode) else Path(episode)
    ep = episode if isinstance(episode, Episode) else read(path)
    if len(ep) == 0:
        raise ValueError(f"{path or 'episode'}: has no steps to replay")
    renderer = None
    with VideoWriter(out, fps=fps, crf=crf, preset=preset, threads=threads, qp=qp) as writer:
        for t, env, obs, total in simulate(ep, str(path or "episode"), verify):
            renderer = renderer or StepRenderer(env, ep, size, max_depth, attention)
            writer.write(renderer.render(obs, t, total))
    h, w, _ = renderer.buf.shape
    still = write_png(Path(out).with_suffix(".png"), renderer.buf) if poster else None
    return ReplayResult(episode=path, video=Path(out), poster=still, frames=writer.frames, width=w, height=h,
                        metrics=dict(ep.metrics), meta=dict(ep.meta))
