"""The environment contract: one interface that every backend (house, crafter, habitat, minedojo) implements.

Batched so that one policy call serves N environments, dict-based so that backends can add keys.

Stepping (same-step auto-reset): ``step(action)`` advances every env by one transition. When the
transition ends an episode, the env resets itself at once and the returned observation is already the
first of the next episode. The flags in ``obs`` describe the transition that produced it:

- ``is_first``     this observation starts an episode (after ``reset`` or an auto-reset);
- ``is_last``      the step just taken ended an episode (reward and ``info`` metrics belong to it);
- ``is_terminal``  it ended by the task itself (stop, death), not by the step cap (``is_last & ~is_terminal``
                   is a truncation, to be bootstrapped);
- ``is_trial_first`` the new episode also starts a new trial (a new scene).

Trials: ``episodes_per_trial`` consecutive episodes share one scene (same house and object layout,
new goal and start pose); then the env moves to a new scene. ``obs['episode_index']`` counts episodes
within the trial (0-based) and ``obs['step_index']`` steps within the episode.

``info`` holds one float array per name in ``metric_keys`` (shape ``(N,)``), valid where ``is_last``
(NaN elsewhere). Given the same constructor arguments, seed and actions, observations are bit-identical.
"""
from __future__ import annotations

import abc
from typing import Any

import gymnasium
import numpy as np

Obs = dict[str, np.ndarray]
FLAGS = ("is_first", "is_last", "is_terminal", "is_trial_first")


class Env(abc.ABC):
    """A batch of ``num_envs`` environments of one backend."""

    num_envs: int
    episodes_per_trial: int
    obs_space: dict[str, gymnasium.Space]  # per env, without the batch dimension
    act_space: dict[str, gymnasium.Space]  # {"action": Discrete(n)} for the navigation and RL tasks
    metric_keys: tuple[str, ...]

    @abc.abstractmethod
    def reset(self, seed: int | None = None) -> Obs:
        """Start a new trial in every env; every returned flag ``is_first`` and ``is_trial_first`` is set."""

    @abc.abstractmethod
    def step(self, action: dict[str, np.ndarray]) -> tuple[Obs, np.ndarray, np.ndarray, dict[str, Any]]:
        """Return ``obs`` (batched), ``reward`` float32 ``(N,)``, ``done`` bool ``(N,)`` (= ``obs['is_last']``) and ``info``."""

    def close(self) -> None:
        """Free simulator resources."""


def flag_spaces() -> dict[str, gymnasium.Space]:
    """Spaces of the keys every backend adds to its observations."""
    flags = {k: gymnasium.spaces.Box(0, 1, (), bool) for k in FLAGS}
    counters = {k: gymnasium.spaces.Box(0, np.iinfo(np.int32).max, (), np.int32)
                for k in ("episode_index", "step_index")}
    return {**flags, **counters}


def empty_info(metric_keys: tuple[str, ...], num_envs: int) -> dict[str, np.ndarray]:
    """Per-env metrics, NaN until an episode ends."""
    return {k: np.full(num_envs, np.nan, np.float32) for k in metric_keys}
