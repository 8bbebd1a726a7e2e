"""Multi-object navigation rules over the whole batch (Numba): moving, stopping, reward, success.

Actions: 0 stop, 1 forward 0.25 m (no move when it would collide), 2 turn left 30°, 3 turn right 30°,
4 look up 30°, 5 look down 30° (pitch limited to ±30°). Stopping ends the episode; it succeeds when the
agent is within ``SUCCESS_DIST`` geodesic of the goal category and an instance of it is *visible*: its
centre projects into the image, no wall lies between camera and instance, and it is within
``SUCCESS_DIST`` in a straight line. Reward: +2 on success, -0.001 per step, plus the decrease of the
geodesic distance to the nearest goal instance.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from envs.house.geometry import COS, HEADINGS, PITCH_MAX, SIN, STEP, SUCCESS_DIST, field_at, in_view, \
    line_of_sight, passable

STOP, FORWARD, LEFT, RIGHT, UP, DOWN = range(6)
NUM_ACTIONS = 6
SUCCESS_REWARD = 2.0
STEP_PENALTY = 0.001


@njit(cache=True)
def sees_goal(grid, f_inst, objs, m, goal, heights, x, y, k, pitch):
    """The success condition at pose (x, y, k, pitch) for goal category ``goal``."""
    if field_at(f_inst, x, y) > SUCCESS_DIST:
        return False
    for i in range(m):
        if int(objs[i, 2]) != goal:
            continue
        ox, oy = objs[i, 0], objs[i, 1]
        if math.hypot(ox - x, oy - y) > SUCCESS_DIST:
            continue
        if in_view(x, y, k, pitch, ox, oy, 0.5 * heights[goal]) and line_of_sight(grid, x, y, ox, oy):
            return True
    return False


@njit(cache=True)
def advance(action, grid, f_inst, f_succ, objects, nobj, goal, heights, pos, heading, pitch, steps, path_len,
            prev_dist, l0, trace, max_steps, reward, done, terminal, success, spl, soft_spl, dist_to_goal, length):
    """Apply one action per env in place; fill ``reward``, ``done``, ``terminal`` and, where an episode
    ends, its metrics (SPL's shortest path ``l0`` is the start's geodesic distance to the success region)."""
    for n in range(action.shape[0]):
        a = action[n]
        x, y, k = pos[n, 0], pos[n, 1], heading[n]
        ok = False
        if a == STOP:
            ok = sees_goal(grid[n], f_inst[n], objects[n], nobj[n], goal[n], heights, x, y, k, pitch[n])
        elif a == FORWARD:
            nx, ny = x + STEP * COS[k], y + STEP * SIN[k]
            if passable(grid[n], nx, ny):
                pos[n, 0], pos[n, 1] = nx, ny
                path_len[n] += STEP
        elif a == LEFT:
            heading[n] = (k + HEADINGS - 1) % HEADINGS
        elif a == RIGHT:
            heading[n] = (k + 1) % HEADINGS
        elif a == UP:
            pitch[n] = min(pitch[n] + 1, PITCH_MAX)
        elif a == DOWN:
            pitch[n] = max(pitch[n] - 1, -PITCH_MAX)
        steps[n] += 1
        trace[n, steps[n], 0], trace[n, steps[n], 1] = pos[n, 0], pos[n, 1]
        d = field_at(f_inst[n], pos[n, 0], pos[n, 1])
        reward[n] = prev_dist[n] - d - STEP_PENALTY + (SUCCESS_REWARD if ok else 0.0)
        prev_dist[n] = d
        terminal[n] = a == STOP
        done[n] = a == STOP or steps[n] >= max_steps
        if done[n]:
            longest = max(l0[n], path_len[n])
            eff = l0[n] / longest if longest > 0 else 1.0
            # a successful stop is in the success region by definition; the field approximates it by cells
            d_end = 0.0 if ok else field_at(f_succ[n], pos[n, 0], pos[n, 1])
            success[n] = 1.0 if ok else 0.0
            spl[n] = success[n] * eff
            progress = 1.0 - d_end / l0[n] if l0[n] > 0 else (1.0 if d_end == 0 else 0.0)
            soft_spl[n] = max(0.0, progress) * eff
            dist_to_goal[n] = d_end
            length[n] = steps[n]


@njit(cache=True)
def begin(idx, cat, xy, k, f_inst, f_succ, goal, pos, heading, pitch, start, steps, path_len, trace, l0,
          prev_dist):
    """Start episodes in envs ``idx``: goal ``cat``, pose (``xy``, heading ``k``), pitch 0, counters zero."""
    for j in range(idx.shape[0]):
        n = idx[j]
        goal[n] = cat[j]
        pos[n, 0], pos[n, 1] = xy[j, 0], xy[j, 1]
        heading[n] = k[j]
        pitch[n] = 0
        start[n, 0], start[n, 1], start[n, 2] = xy[j, 0], xy[j, 1], k[j]
        steps[n] = 0
        path_len[n] = 0.0
        trace[n, 0, 0], trace[n, 0, 1] = xy[j, 0], xy[j, 1]
        l0[n] = field_at(f_succ[n], xy[j, 0], xy[j, 1])
        prev_dist[n] = field_at(f_inst[n], xy[j, 0], xy[j, 1])


def check_actions(action: np.ndarray, num_envs: int) -> np.ndarray:
    """Actions as int64 (N,), with an error naming the bad values."""
    a = np.asarray(action)
    if a.shape != (num_envs,):
        raise ValueError(f"action must have shape ({num_envs},), got {a.shape}")
    if not np.issubdtype(a.dtype, np.integer):
        if not np.all(np.equal(np.mod(a, 1), 0)):
            raise ValueError(f"actions must be integers in 0..{NUM_ACTIONS - 1}, got {a}")
    a = a.astype(np.int64)
    if a.min() < 0 or a.max() >= NUM_ACTIONS:
        raise ValueError(f"actions must be in 0..{NUM_ACTIONS - 1}, got {a}")
    return a
