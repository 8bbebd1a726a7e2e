"""Scripted Darkroom agents for evaluation, of the shape of ``embodied.rollout.actor.Actor`` (duck-typed:
nothing here imports ``embodied``).

An agent acts on a whole env batch: ``reset(env, obs)`` after ``env.reset``, ``act(env, obs) -> (N,) int64``,
``commit(actions, reward)`` after each ``env.step`` with the actions actually taken and the rewards it
returned, ``attention()`` (None: nothing to record). These agents use only the observations, the rewards
and the grid size (``env.obs_space``), never the env's goal. The optimal policy is ``env.oracle_action()``.
"""
from __future__ import annotations

import numpy as np

from envs.darkroom.env import MOVES, step_towards


def sweep_orders(size: int) -> np.ndarray:
    """Boustrophedon cell orders ``(4, size * size)`` of cell ids ``y * size + x``, one per corner to start
    from (index ``2 * flip_y + flip_x``): row by row away from the corner, alternating direction."""
    orders = []
    for flip_y in (False, True):
        for flip_x in (False, True):
            ids = []
            for r in range(size):
                y = size - 1 - r if flip_y else r
                xs = range(size) if (r % 2 == 0) != flip_x else range(size - 1, -1, -1)
                ids.extend(y * size + x for x in xs)
            orders.append(ids)
    return np.array(orders, np.int64)


class ExploreExploitAgent:
    """Explore, then exploit: sweep the grid until the goal pays, then go there in every episode.

    Per env and trial: a cell counts as *tested* once a step has ended on it (its reward then says whether
    it is the goal; the start cell is tested by staying on it first). Until a reward arrives, the agent
    heads for the first untested cell of a boustrophedon sweep that begins at the grid corner nearest the
    trial's start (so from a corner start it tests a new cell every step: a 10x10 grid is covered in 100
    steps); a sweep cut short by the end of an episode continues in the next one over the cells still
    untested. The cell where a reward arrived is the goal: the agent stays there, and in every later
    episode of the trial walks straight to it (x first, then y) and stays. A new trial (``is_trial_first``)
    forgets everything.
    """

    name = "explorer"

    def __init__(self, seed: int = 0):
        self.seed = seed  # deterministic; the argument is the evaluation's common agent signature
        self.size = 0
        self._pos = self._tested = self._goal = self._known = self._corner = None

    def reset(self, env, obs: dict[str, np.ndarray]) -> None:
        nvec = np.asarray(env.obs_space["position"].nvec)
        self.size = int(nvec[0])
        self._orders = sweep_orders(self.size)
        n = len(obs["is_first"])
        self._tested = np.zeros((n, self.size * self.size), bool)
        self._goal = np.zeros((n, 2), np.int64)
        self._known = np.zeros(n, bool)
        self._corner = np.zeros(n, np.int64)
        self._pos = np.asarray(obs["position"], np.int64).copy()

    def act(self, env, obs: dict[str, np.ndarray]) -> np.ndarray:
        if self._tested is None or len(self._tested) != len(obs["is_first"]):
            self.reset(env, obs)
        pos = np.asarray(obs["position"], np.int64)
        self._pos = pos.copy()
        new = np.asarray(obs["is_trial_first"], bool)
        if new.any():
            self._tested[new] = False
            self._known[new] = False
            far = pos[new] > (self.size - 1) / 2  # start in the upper half of an axis: sweep from its top
            self._corner[new] = 2 * far[:, 1] + far[:, 0]
        target = self._goal.copy()
        search = ~self._known
        if search.any():
            rows = np.flatnonzero(search)
            order = self._orders[self._corner[rows]]  # (k, size * size)
            untested = ~np.take_along_axis(self._tested[rows], order, axis=1)
            # first untested cell of the sweep (every cell tested: stay put; only when no goal exists)
            cell = np.where(untested.any(1), order[np.arange(len(rows)), untested.argmax(1)],
                            pos[rows, 1] * self.size + pos[rows, 0])
            target[rows] = np.stack([cell % self.size, cell // self.size], axis=1)
        return step_towards(pos, target)

    def commit(self, actions: np.ndarray, reward: np.ndarray) -> None:
        # where the step ended: the dynamics are known (a move into the wall stays), and at an episode end
        # the returned observation is already the next episode's start, so the cell is computed here
        end = np.clip(self._pos + MOVES[np.asarray(actions, np.int64)], 0, self.size - 1)
        self._tested[np.arange(len(end)), end[:, 1] * self.size + end[:, 0]] = True
        found = (np.asarray(reward) > 0) & ~self._known
        self._goal[found] = end[found]
        self._known |= found

    def attention(self) -> None:
        return None  # no attention to record in episode files
