"""The batched Darkroom env: vectorised NumPy over the batch, no Python loop over envs in ``step``.

Every episode lasts exactly ``horizon`` steps and every env starts at the same time (``reset`` starts
them all), so all envs end their episodes and trials on the same step; the code still works per env with
masks, it does not rely on that.
"""
from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

from envs.contract import Env, Obs, empty_info, flag_spaces

SPLITS = ("all", "test", "train")
TRAIN_FRACTION = 0.8
NUM_ACTIONS = 5
# action -> (dx, dy): 0 stay, 1 x+1, 2 x-1, 3 y+1, 4 y-1
MOVES = np.array([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1]], np.int64)
METRIC_KEYS = ("success", "return_over_optimal", "steps_to_goal")


def goal_cells(split: str, size: int) -> np.ndarray:
    """The goal cells of ``split`` on a ``size`` x ``size`` grid, ``(K, 2)`` int64 ``(x, y)``, sorted by
    cell id ``y * size + x``.

    Rule (independent of any seed): ``perm = np.random.default_rng(size).permutation(size * size)``;
    the first ``round(0.8 * size**2)`` cell ids of ``perm`` are ``train``, the rest ``test``; ``all`` is
    every cell.
    """
    _check_split(split)
    _check_size(size)
    n = size * size
    if split == "all":
        ids = np.arange(n)
    else:
        perm = np.random.default_rng(size).permutation(n)
        n_train = (8 * n + 5) // 10  # round(0.8 * n), exactly (0.8 * n is never a half)
        ids = np.sort(perm[:n_train] if split == "train" else perm[n_train:])
    return np.stack([ids % size, ids // size], axis=1).astype(np.int64)


def optimal_return(start, goal: np.ndarray, horizon: int) -> np.ndarray:
    """The best return of an episode from ``start`` to each goal (``(K, 2)``): walk the Manhattan distance
    ``d``, then stay: ``horizon - d + 1`` (``horizon`` when ``d == 0``, 0 when ``d > horizon``), float32."""
    goal = np.asarray(goal, np.int64).reshape(-1, 2)
    d = np.abs(goal[:, 0] - int(start[0])) + np.abs(goal[:, 1] - int(start[1]))
    best = np.where(d == 0, horizon, horizon - d + 1)
    return np.maximum(best, 0).astype(np.float32)


def step_towards(pos: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The action that moves each ``(x, y)`` in ``pos`` one cell towards ``target``: along x first, then y;
    0 (stay) when already there. ``(N, 2)`` -> ``(N,)`` int64."""
    dx, dy = target[:, 0] - pos[:, 0], target[:, 1] - pos[:, 1]
    return np.where(dx > 0, 1, np.where(dx < 0, 2, np.where(dy > 0, 3, np.where(dy < 0, 4, 0)))).astype(np.int64)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_split(split) -> None:
    if split not in SPLITS:
        raise ValueError(f"env.split={split!r} is not one of {list(SPLITS)}")


def _check_size(size) -> None:
    if not _is_int(size) or size < 2:
        raise ValueError(f"env.size={size!r} is invalid; expected an integer >= 2 (the grid is size x size)")


class DarkroomEnv(Env):
    """A batch of ``num_envs`` Darkroom envs (see ``envs/darkroom/__init__.py`` for the task)."""

    metric_keys = METRIC_KEYS
    goal_cells = staticmethod(goal_cells)

    def __init__(self, num_envs: int = 1, seed: int = 0, episodes_per_trial: int = 4, size: int = 10,
                 horizon: int = 100, split: str = "train", start=(0, 0)):
        for key, value in (("num_envs", num_envs), ("episodes_per_trial", episodes_per_trial)):
            if not _is_int(value) or value < 1:
                raise ValueError(f"env.{key}={value!r} is invalid; expected a positive integer")
        if not _is_int(seed):
            raise ValueError(f"env.seed={seed!r} is invalid; expected an integer")
        _check_size(size)
        if not _is_int(horizon) or horizon < 1:
            raise ValueError(f"env.horizon={horizon!r} is invalid; expected an integer >= 1 (steps per episode)")
        _check_split(split)
        try:
            start_xy = tuple(start)
        except TypeError:
            start_xy = ()
        if len(start_xy) != 2 or not all(_is_int(v) for v in start_xy):
            raise ValueError(f"env.start={start!r} is invalid; expected two integers [x, y]")
        if not all(0 <= v < size for v in start_xy):
            raise ValueError(f"env.start={list(start_xy)!r} is outside the {size}x{size} grid "
                             f"(each coordinate in 0..{size - 1})")
        self.num_envs, self.seed, self.episodes_per_trial = int(num_envs), int(seed), int(episodes_per_trial)
        self.size, self.horizon, self.split = int(size), int(horizon), split
        self.start = np.array([int(v) for v in start_xy], np.int64)
        self.obs_space = {"position": gymnasium.spaces.MultiDiscrete([self.size, self.size], dtype=np.int64),
                          **flag_spaces()}
        self.act_space = {"action": gymnasium.spaces.Discrete(NUM_ACTIONS)}
        self._cells = goal_cells(split, self.size)
        n = self.num_envs
        self._pos = np.zeros((n, 2), np.int64)
        self._goal = np.zeros((n, 2), np.int64)
        self._optimal = np.zeros(n, np.float32)
        self._steps = np.zeros(n, np.int32)
        self._episode = np.zeros(n, np.int32)
        self._hits = np.zeros(n, np.int32)  # reward earned this episode
        self._first_hit = np.zeros(n, np.int32)  # 1-based step the goal was first reached, 0: not yet
        self._rng = np.random.default_rng(self.seed)
        self._all = np.arange(n)
        self._none = np.zeros(n, bool)

    # ------------------------------------------------------------------ api
    @property
    def goal(self) -> np.ndarray:
        """The current goals ``(N, 2)`` int64 ``(x, y)``: for oracles and tests, never an observation."""
        return self._goal.copy()

    def optimal_return(self) -> np.ndarray:
        """The best episode return for each env's current goal, ``(N,)`` float32."""
        return self._optimal.copy()

    def oracle_action(self) -> np.ndarray:
        """The optimal action per env ``(N,)`` int64: along x first, then y, stay on the goal."""
        return step_towards(self._pos, self._goal)

    def reset(self, seed: int | None = None) -> Obs:
        if seed is not None:
            if not _is_int(seed):
                raise ValueError(f"reset(seed={seed!r}): expected an integer or None")
            self.seed = int(seed)
            self._rng = np.random.default_rng(self.seed)
        self._new_trials(self._all)
        self._begin_episodes(self._all)
        ones = np.ones(self.num_envs, bool)
        return self._observe(ones, self._none, ones)

    def step(self, action: dict[str, np.ndarray]) -> tuple[Obs, np.ndarray, np.ndarray, dict[str, Any]]:
        a = self._check_actions(action)
        pos = self._pos
        pos += MOVES[a]
        np.clip(pos, 0, self.size - 1, out=pos)
        self._steps += 1
        hit = (pos[:, 0] == self._goal[:, 0]) & (pos[:, 1] == self._goal[:, 1])
        self._hits += hit
        new_hit = hit & (self._first_hit == 0)
        self._first_hit[new_hit] = self._steps[new_hit]
        reward = hit.astype(np.float32)
        last = self._steps >= self.horizon
        info = empty_info(self.metric_keys, self.num_envs)
        trial = self._none
        if last.any():
            idx = np.flatnonzero(last)
            first_hit = self._first_hit[idx]
            optimal = self._optimal[idx]
            info["success"][idx] = first_hit > 0
            ret = self._hits[idx].astype(np.float32)
            # an unreachable goal (optimal 0) leaves return 0 = optimal: the ratio is 1 there, not 0/0
            info["return_over_optimal"][idx] = np.where(optimal > 0, ret / np.maximum(optimal, 1), 1.0)
            info["steps_to_goal"][idx] = np.where(first_hit > 0, first_hit, self.horizon + 1)
            self._episode[idx] += 1
            trial = last & (self._episode >= self.episodes_per_trial)
            if trial.any():
                self._new_trials(np.flatnonzero(trial))
            self._begin_episodes(idx)
        return self._observe(last, last, trial), reward, last.copy(), info

    # -------------------------------------------------------------- helpers
    def _check_actions(self, action) -> np.ndarray:
        if not isinstance(action, dict) or "action" not in action:
            raise ValueError("step expects a dict {'action': int array of shape (num_envs,)}")
        a = np.asarray(action["action"])
        if a.shape != (self.num_envs,) or a.dtype.kind not in "iu":
            raise ValueError(f"action['action'] must be an integer array of shape ({self.num_envs},); "
                             f"got dtype {a.dtype}, shape {a.shape}")
        if a.min() < 0 or a.max() >= NUM_ACTIONS:
            raise ValueError(f"actions must be in 0..{NUM_ACTIONS - 1}; got {a.min()}..{a.max()}")
        return a

    def _new_trials(self, idx: np.ndarray) -> None:
        """New goals for envs ``idx``: one draw per env, in index order, from the split's goal cells."""
        draw = self._rng.integers(0, len(self._cells), size=len(idx))
        self._goal[idx] = self._cells[draw]
        self._optimal[idx] = optimal_return(self.start, self._goal[idx], self.horizon)
        self._episode[idx] = 0

    def _begin_episodes(self, idx: np.ndarray) -> None:
        self._pos[idx] = self.start
        self._steps[idx] = 0
        self._hits[idx] = 0
        self._first_hit[idx] = 0

    def _observe(self, first: np.ndarray, last: np.ndarray, trial: np.ndarray) -> Obs:
        return {"position": self._pos.copy(), "is_first": first.copy(), "is_last": last.copy(),
                "is_terminal": np.zeros(self.num_envs, bool), "is_trial_first": trial.copy(),
                "episode_index": self._episode.copy(), "step_index": self._steps.copy()}
