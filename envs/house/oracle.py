"""Built-in policies: the shortest-path oracle (best next action) and uniform random actions.

The oracle descends the geodesic distance to the success region (cells that see a goal instance within
the success radius) with the 12 headings the agent can face; once a goal instance is within reach and
in line of sight it turns and tilts the camera until the instance is in view, then stops.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from envs.house.geometry import COS, HEADINGS, PITCH_MAX, SIN, STEP, SUCCESS_DIST, field_at, in_view, \
    line_of_sight, passable
from envs.house.task import DOWN, FORWARD, LEFT, NUM_ACTIONS, RIGHT, STOP, UP, sees_goal


@njit(cache=True)
def _turn_towards(k, target):
    diff = (target - k) % HEADINGS
    return RIGHT if diff <= HEADINGS // 2 else LEFT


@njit(cache=True)
def _face_goal(grid, f_inst, objs, m, goal, heights, x, y, k, pitch):
    """Action that brings a reachable goal instance into view, or -1 when none is within reach."""
    if field_at(f_inst, x, y) > SUCCESS_DIST:
        return -1
    best, best_turn, best_pitch = np.inf, -1, 0
    for i in range(m):
        if int(objs[i, 2]) != goal:
            continue
        ox, oy = objs[i, 0], objs[i, 1]
        dist = math.hypot(ox - x, oy - y)
        if dist > SUCCESS_DIST - 0.02 or not line_of_sight(grid, x, y, ox, oy):
            continue
        target = int(round(math.atan2(oy - y, ox - x) / (math.pi / 6))) % HEADINGS
        for p in (pitch, 0, -1, 1):
            if abs(p) <= PITCH_MAX and in_view(x, y, target, p, ox, oy, 0.5 * heights[goal]):
                turns = min((target - k) % HEADINGS, (k - target) % HEADINGS) + abs(p - pitch)
                if turns < best:
                    best, best_turn, best_pitch = turns, target, p
                break
    if best_turn < 0:
        return -1
    if best_turn != k:
        return _turn_towards(k, best_turn)
    if best_pitch > pitch:
        return UP
    if best_pitch < pitch:
        return DOWN
    return STOP


@njit(cache=True)
def _step_into_view(grid, f_inst, objs, m, goal, heights, x, y, k):
    """Forward or a turn towards a heading whose next step reaches a place that sees a goal instance
    (the fallback when the fields' cell-level success region and the exact position disagree); -1 if none."""
    for j in range(HEADINGS):
        kk = (k + j) % HEADINGS
        nx, ny = x + STEP * COS[kk], y + STEP * SIN[kk]
        if passable(grid, nx, ny) and _face_goal(grid, f_inst, objs, m, goal, heights, nx, ny, kk, 0) >= 0:
            return FORWARD if kk == k else _turn_towards(k, kk)
    return -1


@njit(cache=True)
def _descend(grid, field, x, y, k):
    """Forward or a turn towards the heading whose next step lowers ``field`` most; -1 if none does."""
    here = field_at(field, x, y)
    best, best_k = here - 1e-4, -1
    for j in range(HEADINGS):
        kk = (k + j) % HEADINGS  # the current heading first: ties keep going straight
        nx, ny = x + STEP * COS[kk], y + STEP * SIN[kk]
        if not passable(grid, nx, ny):
            continue
        v = field_at(field, nx, ny)
        if v < best - 1e-9:
            best, best_k = v, kk
    if best_k < 0:
        return -1
    return FORWARD if best_k == k else _turn_towards(k, best_k)


@njit(cache=True)
def oracle(grid, f_inst, f_succ, objects, nobj, goal, heights, pos, heading, pitch, out):
    """Best next action per env into ``out`` (N,)."""
    for n in range(out.shape[0]):
        x, y, k, p = pos[n, 0], pos[n, 1], heading[n], pitch[n]
        g, m = goal[n], nobj[n]
        if sees_goal(grid[n], f_inst[n], objects[n], m, g, heights, x, y, k, p):
            out[n] = STOP
            continue
        a = _face_goal(grid[n], f_inst[n], objects[n], m, g, heights, x, y, k, p)
        if a < 0:
            a = _descend(grid[n], f_succ[n], x, y, k)
        if a < 0:
            a = _step_into_view(grid[n], f_inst[n], objects[n], m, g, heights, x, y, k)
        if a < 0:
            a = _descend(grid[n], f_inst[n], x, y, k)
        out[n] = a if a >= 0 else RIGHT


def random_actions(rng: np.random.Generator, num_envs: int) -> np.ndarray:
    """Uniform random actions (the random baseline)."""
    return rng.integers(0, NUM_ACTIONS, num_envs)
