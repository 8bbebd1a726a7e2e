"""Run evaluation trials: in this process or as Ray tasks, one chunk of trials per task.

A chunk is a batch of envs, one trial each, driven by the episode loop (embodied/rollout/episodes.py):
every env runs exactly ``episodes`` episodes in its house (one trial), or with ``trial_steps`` until its trial
has run that many steps, and the per-episode metrics come back as rows: the return and the env's own
``metric_keys``.
Any backend of the env contract runs (``env['name']``, default house). Chunks are seeded from the
evaluation seed and their index, so a run is reproducible whatever the number of workers.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from embodied.rollout.actor import Actor, make_actor
from embodied.rollout.episodes import Episodes, Hook


@dataclasses.dataclass
class Task:
    """One chunk of trials for one policy (everything a worker needs; picklable)."""

    policy: str
    chunk: int
    trials: int  # envs in this chunk, one trial each
    first_trial: int  # global id of the chunk's first trial
    episodes: int
    seed: int
    env: dict[str, Any]  # the backend's constructor keys, with its ``name`` (default: house)
    fewshot: int = 0
    greedy: bool = False
    record: str = "none"
    record_dir: str | None = None
    record_frames: bool = False
    max_episode_steps: int = 500
    trial_steps: int | None = None  # each trial runs until its episode ending at or after this step (episodes: a bound)


def chunks(policy: str, trials: int, chunk_size: int, **kw) -> list[Task]:
    """Split ``trials`` into tasks of at most ``chunk_size`` trials."""
    n = math.ceil(trials / chunk_size)
    return [Task(policy=policy, chunk=c, trials=min(chunk_size, trials - c * chunk_size),
                 first_trial=c * chunk_size, **kw) for c in range(n)]


def chunk_seed(seed: int, chunk: int) -> int:
    """Env seed of a chunk: distinct chunks get independent, reproducible streams of houses."""
    return int(np.random.SeedSequence([seed, chunk]).generate_state(1)[0] & 0x7FFFFFFF)


def run_task(task: Task, progress: Callable[[int], None] | None = None) -> list[dict]:
    """Run one chunk; returns one row per episode: trial id, episode index, policy, return and the metrics."""
    import envs
    from embodied.replay.recorder import EpisodeRecorder

    seed = chunk_seed(task.seed, task.chunk)
    backend = {"name": "house", **task.env}
    env = envs.make(**backend, num_envs=task.trials, seed=seed, episodes_per_trial=task.episodes)
    actor = make_actor(task.policy, seed=seed, fewshot=task.fewshot, greedy=task.greedy,
                       max_steps=_context_steps(task), backend=backend["name"])
    hooks: list[Hook] = []
    # episode files replay through the simulator: only backends that describe their episodes can record
    if task.record != "none" and task.record_dir and hasattr(env, "episode_spec"):
        recorder = EpisodeRecorder(task.record_dir, which=task.record, frames=task.record_frames,
                                   prefix=f"{_slug(actor.name)}-c{task.chunk:04d}-", max_trials=1,
                                   meta={"policy": task.policy, "chunk": task.chunk, "fewshot": task.fewshot,
                                         "first_trial": task.first_trial})  # trial id = first_trial + env
        hooks.append(_Recording(recorder, actor))
    rows: list[dict] = []
    try:
        for row in Episodes(env, actor, task.episodes, seed, hooks, step_quota=task.trial_steps):
            env_id = row.pop("env")
            rows.append({"policy": task.policy, "trial": task.first_trial + env_id, **row})
            if progress:
                progress(1)
    finally:
        env.close()
    return rows


def _context_steps(task: Task) -> int:
    """Steps the actor's context must hold: the longest trial the task can run."""
    steps = task.episodes * task.max_episode_steps
    if task.trial_steps is not None:
        steps = min(steps, task.trial_steps - 1 + task.max_episode_steps)
    return steps + 1


class _Recording(Hook):
    """Episode files of the chunk's episodes, each step with the attention of the actor that chose it."""

    def __init__(self, recorder, actor: Actor):
        self.recorder, self.actor, self.attention = recorder, actor, None

    def reset(self, env, obs):
        self.recorder.reset(env, obs)

    def before(self, env, obs, actions):
        self.attention = self.actor.attention()

    def after(self, env, actions, obs, reward, info):
        self.recorder.step(env, actions, obs, reward, info, attention=self.attention)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:40] or "agent"


def run_inprocess(tasks: list[Task], progress: Callable[[int], None] | None = None) -> Iterator[list[dict]]:
    """Run the tasks one after another here, with one torch thread like a Ray worker (inference on a
    batch of a few envs is fastest single-threaded, and a busy machine makes thread pools crawl)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for t in tasks:
            yield run_task(t, progress)
    finally:
        torch.set_num_threads(threads)


def run_ray(tasks: list[Task], address: str | None = None, workers: int | None = None,
            progress: Callable[[int], None] | None = None) -> Iterator[list[dict]]:
    """Run the tasks as Ray tasks (one CPU each), yielding each chunk's rows as it finishes.

    Uses the running Ray if there is one, otherwise starts a local one (or joins ``address``) for the
    duration of the iteration.
    """
    import ray

    from embodied.rollout.cluster import ray_started

    with ray_started(address, num_cpus=workers, join=address is not None):
        remote = ray.remote(num_cpus=1, max_retries=2)(_ray_task)
        pending = {remote.remote(t): t for t in tasks}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                task = pending.pop(ref)
                rows = ray.get(ref)
                if progress:
                    progress(len(rows))
                yield rows


def _ray_task(task: Task) -> list[dict]:
    import torch

    torch.set_num_threads(1)
    return run_task(task)
