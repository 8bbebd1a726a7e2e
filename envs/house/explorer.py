"""Scripted memory references for the house task: a frontier explorer with and without a map across episodes.

They measure how much an agent *could* gain from remembering a house: the explorer builds a map of what
its camera has seen (cells reached by rays across the 90° field of view up to ``SEE_DIST``, stopped by
walls; object instances by the simulator's own visibility test: in the image at the current pitch, no wall
in between, within ``SEE_DIST``). Until it has seen an instance of the goal category it walks down the
map's distance to the nearest frontier (a seen free cell next to an unseen one), turning in place where no
step gets closer; once it has seen one it follows the shortest-path oracle (which heads to the nearest
instance of the category and stops where the task's success test holds). ``explorer_memory`` keeps its map
for the whole trial (a goal seen in an earlier episode is reached directly); ``explorer`` forgets it at every
episode. Both use only the simulator's ground truth that a mapping robot with odometry would have (its pose,
what its camera sees); the oracle's path to a seen object is the one liberty (a planner on the map would
walk a slightly longer path).

Evaluation agents of the shape of ``embodied.rollout.actor.Actor`` (``reset`` / ``act`` / ``commit`` /
``attention``, as ``envs.darkroom.agents``), duck-typed: nothing here imports ``embodied``.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from envs.house.geometry import COS, SIN, in_view, line_of_sight
from envs.house.layout import CELL, DOOR, FREE, MAX_GRID, MAX_OBJECTS, WALL
from envs.house.oracle import _descend
from envs.house.perception import SEE_DIST
from envs.house.task import RIGHT

RAYS = 31  # rays across the field of view per step
RAY_STEP = 0.5 * CELL  # metres between samples along a ray
RECALL_SCALE = 5.0  # metres per unit of the recall label's offsets (houses span ~5-20 m)


@njit(cache=True)
def observe(grid, objects, nobj, heights, pos, heading, pitch, known, seen):
    """Mark what each env's camera sees now: cells in ``known`` (N, G, G) and instances in ``seen`` (N, M)."""
    half = math.pi / 4
    for n in range(pos.shape[0]):
        x, y, k = pos[n, 0], pos[n, 1], heading[n]
        base = k * math.pi / 6
        for j in range(RAYS):
            a = base - half + 2 * half * j / (RAYS - 1)
            ca, sa = math.cos(a), math.sin(a)
            for s in range(int(SEE_DIST / RAY_STEP) + 1):
                c = int(math.floor((x + s * RAY_STEP * ca) / CELL))
                r = int(math.floor((y + s * RAY_STEP * sa) / CELL))
                if r < 0 or c < 0 or r >= grid.shape[1] or c >= grid.shape[2]:
                    break
                known[n, r, c] = True
                if grid[n, r, c] == WALL:
                    break
        for i in range(nobj[n]):
            ox, oy, cat = objects[n, i, 0], objects[n, i, 1], int(objects[n, i, 2])
            if seen[n, i] or math.hypot(ox - x, oy - y) > SEE_DIST:
                continue
            if in_view(x, y, k, pitch[n], ox, oy, 0.5 * heights[cat]) and line_of_sight(grid[n], x, y, ox, oy):
                seen[n, i] = True


@njit(cache=True)
def frontier_field(grid, known, field, queue):
    """Distance (m, 4-connected steps over seen free cells) to the nearest frontier, into ``field`` (h, w)."""
    h, w = grid.shape
    head, tail = 0, 0
    for r in range(h):
        for c in range(w):
            field[r, c] = np.inf
            g = grid[r, c]
            if not known[r, c] or (g != FREE and g != DOOR):
                continue
            for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < h and 0 <= cc < w and not known[rr, cc]:
                    field[r, c] = 0.0
                    queue[tail] = r * w + c
                    tail += 1
                    break
    while head < tail:
        cell = queue[head]
        head += 1
        r, c = cell // w, cell % w
        for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            rr, cc = r + dr, c + dc
            if 0 <= rr < h and 0 <= cc < w and known[rr, cc] and field[rr, cc] == np.inf:
                g = grid[rr, cc]
                if g == FREE or g == DOOR:
                    field[rr, cc] = field[r, c] + CELL
                    queue[tail] = rr * w + cc
                    tail += 1


@njit(cache=True)
def explore(grid, objects, nobj, goal, pos, heading, known, seen, field, queue, out):
    """Per env: -1 where an instance of the goal category has been seen (the oracle takes over), else the
    step down the frontier distance (a right turn where none gets closer: look around)."""
    for n in range(pos.shape[0]):
        found = False
        for i in range(nobj[n]):
            if seen[n, i] and int(objects[n, i, 2]) == goal[n]:
                found = True
                break
        if found:
            out[n] = -1
            continue
        frontier_field(grid[n], known[n], field, queue)
        a = _descend(grid[n], field, pos[n, 0], pos[n, 1], heading[n])
        out[n] = a if a >= 0 else RIGHT


class FrontierExplorer:
    """Frontier exploration to the goal; with ``memory`` the map lasts the trial, else one episode."""

    def __init__(self, seed: int = 0, memory: bool = False):
        self.seed, self.memory = seed, memory  # deterministic; ``seed`` is the evaluation's common signature
        self.name = "explorer_memory" if memory else "explorer"
        self._known = self._seen = None
        self._field = np.full((MAX_GRID, MAX_GRID), np.inf, np.float32)
        self._queue = np.zeros(MAX_GRID * MAX_GRID, np.int64)

    def reset(self, env, obs: dict[str, np.ndarray]) -> None:
        n = env.num_envs
        self._known = np.zeros((n, MAX_GRID, MAX_GRID), bool)
        self._seen = np.zeros((n, MAX_OBJECTS), bool)

    def act(self, env, obs: dict[str, np.ndarray]) -> np.ndarray:
        if self._known is None or len(self._known) != env.num_envs:
            self.reset(env, obs)
        forget = np.asarray(obs["is_trial_first"] if self.memory else obs["is_first"], bool)
        self._known[forget] = False
        self._seen[forget] = False
        w = env.world()
        observe(w["grid"], w["objects"], w["nobj"], w["heights"], w["pos"], w["heading"], w["pitch"], self._known,
                self._seen)
        out = np.zeros(env.num_envs, np.int64)
        explore(w["grid"], w["objects"], w["nobj"], w["goal"], w["pos"], w["heading"], self._known, self._seen,
                self._field, self._queue, out)
        go = out < 0
        if go.any():
            out[go] = env.oracle_action()[go]
        return out

    def commit(self, actions: np.ndarray, reward: np.ndarray) -> None:
        pass

    def attention(self) -> None:
        return None  # no attention to record in episode files

    def recall(self, env) -> np.ndarray:
        """``(N, 3)`` float32 per env: 1 where the map holds an instance of the goal category (else all 0),
        then the nearest such instance's offset along the agent's heading and across it (counter-clockwise in
        the world's x, y frame), in ``RECALL_SCALE`` metres: what a memory of the trial tells the agent, after
        :meth:`act` on the same step (an auxiliary target for the learner, ``trainer.recall_coef``)."""
        w = env.world()
        objects, pos, heading = w["objects"], w["pos"], np.asarray(w["heading"], np.int64)
        out = np.zeros((env.num_envs, 3), np.float32)
        index = np.arange(objects.shape[1])
        goal_seen = self._seen & (objects[:, :, 2].astype(np.int64) == np.asarray(w["goal"])[:, None]) \
            & (index[None] < np.asarray(w["nobj"])[:, None])
        for n in np.flatnonzero(goal_seen.any(1)):
            d = objects[n, goal_seen[n], :2] - pos[n]
            dx, dy = d[np.argmin(np.hypot(d[:, 0], d[:, 1]))]
            c, s = COS[heading[n]], SIN[heading[n]]
            out[n] = 1.0, (dx * c + dy * s) / RECALL_SCALE, (dy * c - dx * s) / RECALL_SCALE
        return out

    def explored(self) -> np.ndarray:
        """Seen cells per env (N, G, G) bool: the map (for plots and tests)."""
        return self._known.copy()


class MemoryExplorer(FrontierExplorer):
    """:class:`FrontierExplorer` whose map lasts the whole trial."""
    forgetful = "explorer"  # the same agent without the memory: where they differ, the memory decided

    def __init__(self, seed: int = 0):
        super().__init__(seed, memory=True)


AGENTS = {"explorer": FrontierExplorer, "explorer_memory": MemoryExplorer}
