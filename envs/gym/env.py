"""``GymTrialEnv``: ``num_envs`` gymnasium envs behind the batched contract, with trials of task seeds.

Each gymnasium env is one ``envs.serial.Episodic`` instance (``GymInstance``); ``envs.serial.SerialEnv``
adds the flags, counters, same-step auto-reset, trials and NaN-padded metrics. The module docstring of
``envs.gym`` states the observation, action, split and trial rules implemented here.
"""
from __future__ import annotations

import difflib
import importlib
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from envs.contract import flag_spaces
from envs.serial import SerialEnv, Transition

SPLITS = ("train", "test", "all")
SEED_RANGE = 2**31  # task seeds lie in [0, SEED_RANGE)
LEAF_SPACES = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)
METRIC_KEYS = ("episode_return", "episode_length")


def split_of(task_seed: int) -> str:
    """The split a task seed belongs to: ``test`` when ``task_seed % 5 == 0``, else ``train``."""
    return "test" if task_seed % 5 == 0 else "train"


def draw_task_seed(rng: np.random.Generator, split: str) -> int:
    """A task seed of ``split`` in [0, 2**31), uniform over that split's seeds, one draw of ``rng``."""
    if split == "all":
        return int(rng.integers(0, SEED_RANGE))
    if split == "test":  # multiples of 5
        return 5 * int(rng.integers(0, (SEED_RANGE - 1) // 5 + 1))
    # the k-th non-multiple of 5 (k = 0, 1, ...): 1, 2, 3, 4, 6, 7, ...
    k = int(rng.integers(0, SEED_RANGE - ((SEED_RANGE - 1) // 5 + 1)))
    return 5 * (k // 4) + k % 4 + 1


def build(env_id: str, kwargs: dict[str, Any]) -> gymnasium.Env:
    """One gymnasium env from a registered id or from ``"package.module:Name"`` (see ``envs.gym``)."""
    if not isinstance(env_id, str) or not env_id:
        raise ValueError(f"env.id={env_id!r} is invalid; expected a registered gymnasium id such as "
                         "'CartPole-v1' or 'package.module:ClassName'")
    if ":" in env_id:
        module_name, _, name = env_id.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:
            raise ValueError(f"env.id={env_id!r}: cannot import module {module_name!r}: {e}") from e
        target = getattr(module, name, None)
        if target is None:
            if name in gymnasium.registry:  # the module registered ids on import (e.g. 'ale_py:ALE/Pong-v5')
                return gymnasium.make(name, **kwargs)
            raise ValueError(f"env.id={env_id!r}: module {module_name!r} has no attribute {name!r} and "
                             f"registers no gymnasium id {name!r}")
        if not (isinstance(target, type) and issubclass(target, gymnasium.Env)):
            raise ValueError(f"env.id={env_id!r}: {module_name}.{name} is {target!r}, not a gymnasium.Env "
                             "subclass")
        return target(**kwargs)
    if env_id not in gymnasium.registry:
        close = difflib.get_close_matches(env_id, list(gymnasium.registry), n=5)
        hint = f"; did you mean {close}?" if close else ""
        raise ValueError(f"env.id={env_id!r} is not a registered gymnasium id{hint} (or name a class as "
                         "'package.module:ClassName')")
    try:
        return gymnasium.make(env_id, **kwargs)
    except gymnasium.error.DependencyNotInstalled as e:
        raise ImportError(f"env.id={env_id!r} needs a package that is not installed: {e}") from e


def observation_spaces(space: gymnasium.Space, env_id: str) -> dict[str, gymnasium.Space]:
    """The env's observation space as contract keys: a Dict's own keys, any other leaf space as ``obs``."""
    items = dict(space.spaces) if isinstance(space, spaces.Dict) else {"obs": space}
    supported = ", ".join(s.__name__ for s in LEAF_SPACES)
    flags = flag_spaces()
    for key, sub in items.items():
        where = f"observation space {space}" if key == "obs" and not isinstance(space, spaces.Dict) \
            else f"observation key {key!r} ({sub})"
        if not isinstance(sub, LEAF_SPACES):
            nested = " (nested Dict/Tuple spaces are not flattened)" if isinstance(sub, (spaces.Dict, spaces.Tuple)) \
                else ""
            raise ValueError(f"env.id={env_id!r}: {where} is a {type(sub).__name__} space{nested}; supported "
                             f"observation spaces: {supported}, or a Dict of them")
        if not isinstance(key, str):
            raise ValueError(f"env.id={env_id!r}: observation key {key!r} is not a string")
        if key in flags:
            raise ValueError(f"env.id={env_id!r}: observation key {key!r} collides with a contract flag "
                             f"({sorted(flags)})")
    return items


def action_count(space: gymnasium.Space, env_id: str) -> tuple[int, int]:
    """``(n, start)`` of the env's Discrete action space."""
    if not isinstance(space, spaces.Discrete):
        raise ValueError(f"env.id={env_id!r} has action space {space}; policies here need a Discrete action space")
    return int(space.n), int(space.start)


class GymInstance:
    """One gymnasium env seen as trials (a task seed each) of episodes (``reset(seed=task_seed)`` each)."""

    def __init__(self, env: gymnasium.Env, keys: dict[str, gymnasium.Space], n: int, start: int, split: str,
                 max_steps: int | None):
        self.env, self.keys, self.n, self.start = env, keys, n, start
        self.split, self.max_steps = split, max_steps
        self.dict_obs = isinstance(env.observation_space, spaces.Dict)
        self.task_seed = -1
        self.steps, self.ret = 0, 0.0

    def new_trial(self, rng: np.random.Generator) -> None:
        self.task_seed = draw_task_seed(rng, self.split)

    def new_episode(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        obs, _ = self.env.reset(seed=self.task_seed)
        # The reset (the task: start state, level) is the trial's; the noise of the steps that follow is
        # drawn afresh per episode, so stochastic dynamics do not replay the same outcomes every episode.
        self.env.unwrapped.np_random = np.random.default_rng(int(rng.integers(0, SEED_RANGE)))
        self.steps, self.ret = 0, 0.0
        return self._obs(obs)

    def step(self, action: Any) -> Transition:
        a = int(action)
        if not 0 <= a < self.n:
            raise ValueError(f"action {a} is out of range: the env's actions are 0..{self.n - 1}")
        obs, reward, terminated, truncated, _ = self.env.step(a + self.start)
        self.steps += 1
        self.ret += float(reward)
        capped = self.max_steps is not None and self.steps >= self.max_steps
        done = bool(terminated) or bool(truncated) or capped
        metrics = {"episode_return": self.ret, "episode_length": self.steps} if done else {}
        return Transition(self._obs(obs), float(reward), terminal=bool(terminated),
                          truncated=done and not terminated, metrics=metrics)

    def _obs(self, obs: Any) -> dict[str, np.ndarray]:
        if not self.dict_obs:
            return {"obs": np.asarray(obs)}
        missing = set(self.keys) - set(obs)
        if missing:
            raise RuntimeError(f"the env's observation lacks keys {sorted(missing)} of its Dict space")
        return {k: np.asarray(obs[k]) for k in self.keys}

    def close(self) -> None:
        self.env.close()


class GymTrialEnv(SerialEnv):
    """``num_envs`` copies of one gymnasium env behind the contract; ``task_seed`` (N,) int64 per env."""

    def __init__(self, num_envs: int = 1, seed: int = 0, episodes_per_trial: int = 8, id: str = "CartPole-v1",
                 split: str = "train", max_steps: int | None = None, kwargs: dict[str, Any] | None = None):
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"env.num_envs={num_envs!r} is invalid; expected a positive integer")
        if split not in SPLITS:
            raise ValueError(f"env.split={split!r} is not allowed; allowed: {list(SPLITS)} "
                             "(test: task seeds divisible by 5, train: the others)")
        if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer))
                                      or max_steps < 1):
            raise ValueError(f"env.max_steps={max_steps!r} is invalid; expected a positive integer or null")
        if kwargs is not None and not hasattr(kwargs, "keys"):
            raise ValueError(f"env.kwargs={kwargs!r} is invalid; expected a mapping of keyword arguments")
        if isinstance(episodes_per_trial, bool) or not isinstance(episodes_per_trial, (int, np.integer)) \
                or episodes_per_trial < 1:
            raise ValueError(f"env.episodes_per_trial={episodes_per_trial!r} is invalid; expected a positive integer")
        kwargs = dict(kwargs or {})
        first = build(id, kwargs)
        try:
            keys = observation_spaces(first.observation_space, id)
            n, start = action_count(first.action_space, id)
            gyms = [first] + [build(id, kwargs) for _ in range(int(num_envs) - 1)]
        except Exception:
            first.close()
            raise
        self.id, self.split = id, split
        self.max_steps = None if max_steps is None else int(max_steps)
        sims = [GymInstance(g, keys, n, start, split, self.max_steps) for g in gyms]
        super().__init__(sims, keys, {"action": spaces.Discrete(n)}, METRIC_KEYS, int(episodes_per_trial), seed)

    @property
    def task_seed(self) -> np.ndarray:
        """The current trial's task seed of every env, (N,) int64 (-1 before ``reset``)."""
        return np.array([sim.task_seed for sim in self.sims], np.int64)
