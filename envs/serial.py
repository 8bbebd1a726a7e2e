"""A batched contract ``Env`` over N single-instance simulators stepped one after another.

External simulators (habitat-sim, MineDojo's Minecraft) run one world per process or per GPU context and
cannot be vectorised like the embedded house renderer, so their adapters describe *one* instance as an
``Episodic`` (new trial, new episode, step) and this class adds everything the contract asks of a batch:
flags, counters, same-step auto-reset, trials of ``episodes_per_trial`` episodes, NaN-padded metrics
and per-env seeded random streams. Parallelism across instances comes from Ray env workers, each
holding one ``SerialEnv``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import gymnasium
import numpy as np

from envs.contract import Env, Obs, empty_info, flag_spaces


@dataclass
class Transition:
    """What one simulator instance returns for one step."""

    obs: dict[str, np.ndarray]
    reward: float
    terminal: bool = False  # the task ended the episode (stop, death, success)
    truncated: bool = False  # the step cap ended it
    metrics: dict[str, float] = field(default_factory=dict)  # filled when the episode ends


class Episodic(Protocol):
    """One simulator instance seen as trials (scenes) of episodes."""

    def new_trial(self, rng: np.random.Generator) -> None:
        """Move to a new scene / world drawn from ``rng``."""

    def new_episode(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Start an episode in the current scene (new goal and start); return its first observation."""

    def step(self, action: Any) -> Transition:
        """Advance one step; ``metrics`` must hold every metric key when the episode ends."""

    def close(self) -> None:
        """Release the simulator."""


class SerialEnv(Env):
    """``num_envs`` ``Episodic`` instances behind the batched contract (see envs/contract.py)."""

    def __init__(self, sims: list[Episodic], obs_space: dict[str, gymnasium.Space],
                 act_space: dict[str, gymnasium.Space], metric_keys: tuple[str, ...],
                 episodes_per_trial: int, seed: int = 0):
        if not sims:
            raise ValueError("num_envs must be at least 1")
        if episodes_per_trial < 1:
            raise ValueError(f"episodes_per_trial={episodes_per_trial!r} must be a positive integer")
        self.sims = sims
        self.num_envs = len(sims)
        self.episodes_per_trial = int(episodes_per_trial)
        self.obs_space = {**obs_space, **flag_spaces()}
        self.act_space = act_space
        self.metric_keys = tuple(metric_keys)
        self._seed = int(seed)
        self._rngs: list[np.random.Generator] = []
        self._episode = np.zeros(self.num_envs, np.int32)
        self._step = np.zeros(self.num_envs, np.int32)

    def reset(self, seed: int | None = None) -> Obs:
        if seed is not None:
            self._seed = int(seed)
        # One independent stream per env: the same seed gives the same scenes whatever the batch size.
        self._rngs = [np.random.default_rng([self._seed, i]) for i in range(self.num_envs)]
        frames = []
        for i, sim in enumerate(self.sims):
            sim.new_trial(self._rngs[i])
            frames.append(sim.new_episode(self._rngs[i]))
        self._episode[:] = 0
        self._step[:] = 0
        ones = np.ones(self.num_envs, bool)
        return self._batch(frames, first=ones, last=~ones, terminal=~ones, trial_first=ones)

    def step(self, action: dict[str, np.ndarray]) -> tuple[Obs, np.ndarray, np.ndarray, dict[str, Any]]:
        if not self._rngs:
            raise RuntimeError("call reset() before step()")
        acts = action["action"] if isinstance(action, dict) else action
        n = self.num_envs
        reward = np.zeros(n, np.float32)
        first, last, terminal, trial_first = (np.zeros(n, bool) for _ in range(4))
        info = empty_info(self.metric_keys, n)
        frames = []
        for i, sim in enumerate(self.sims):
            tr = sim.step(acts[i])
            reward[i] = tr.reward
            if not (tr.terminal or tr.truncated):
                self._step[i] += 1
                frames.append(tr.obs)
                continue
            missing = set(self.metric_keys) - set(tr.metrics)
            if missing:
                raise RuntimeError(f"{type(sim).__name__} ended an episode without metrics {sorted(missing)}")
            for k in self.metric_keys:
                info[k][i] = tr.metrics[k]
            last[i], terminal[i], first[i] = True, tr.terminal, True
            self._episode[i] += 1
            if self._episode[i] >= self.episodes_per_trial:
                self._episode[i] = 0
                trial_first[i] = True
                sim.new_trial(self._rngs[i])
            self._step[i] = 0
            frames.append(sim.new_episode(self._rngs[i]))
        obs = self._batch(frames, first=first, last=last, terminal=terminal, trial_first=trial_first)
        return obs, reward, last.copy(), info

    def close(self) -> None:
        for sim in self.sims:
            sim.close()

    def _batch(self, frames: list[dict[str, np.ndarray]], *, first: np.ndarray, last: np.ndarray,
               terminal: np.ndarray, trial_first: np.ndarray) -> Obs:
        obs: Obs = {}
        for key, space in self.obs_space.items():
            if key in frames[0]:
                obs[key] = np.stack([f[key] for f in frames]).astype(space.dtype, copy=False)
        obs.update(is_first=first, is_last=last, is_terminal=terminal, is_trial_first=trial_first,
                   episode_index=self._episode.copy(), step_index=self._step.copy())
        return obs
