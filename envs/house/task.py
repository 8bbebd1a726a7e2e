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
from envs.house.layout import CELL

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


_GOLDEN, _MIX1, _MIX2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


@njit(cache=True)
def uniform(state, n):
    """Next float in [0, 1) of env ``n``'s splitmix64 stream (``state`` (N,) uint64, advanced in place)."""
    z = state[n] + _GOLDEN
    state[n] = z
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def draw_index(state, n, size):
    """A uniform integer in [0, size) from env ``n``'s stream."""
    return min(int(uniform(state, n) * size), size - 1)


@njit(cache=True)
def begin(idx, forced_cat, forced_pose, keep_goal, keep_start, state, cats, inst, succ, goals, starts, offsets,
          f_inst, f_succ, goal, pos, heading, pitch, start, steps, path_len, trace, l0, prev_dist):
    """Start an episode in each env ``idx[j]`` of its current house (the typed lists hold, per env, the
    house's categories, fields (K, h, w), goal slots and start cells): goal and start pose drawn from the
    env's stream (with ``keep_goal[j]`` the goal stays the env's current one, with ``keep_start[j]`` too the
    start pose), or ``forced_cat[j]`` (>= 0) at ``forced_pose[j]`` = (x, y, heading)."""
    for j in range(idx.shape[0]):
        n = idx[j]
        f_i, f_s = inst[n], succ[n]
        h, w = f_i.shape[1], f_i.shape[2]
        if forced_cat[j] >= 0:
            slot = -1
            for q in range(cats[n].shape[0]):
                if cats[n][q] == forced_cat[j]:
                    slot = q
            if slot < 0:
                raise ValueError("episode goal category is not in the house")
            x, y, k = forced_pose[j, 0], forced_pose[j, 1], int(forced_pose[j, 2])
        else:
            g = -1
            if keep_goal[j]:
                for q in range(goals[n].shape[0]):
                    if cats[n][goals[n][q]] == goal[n]:
                        g = q
                if g < 0:
                    raise ValueError("the kept goal category is not a goal of the house")
            else:
                g = draw_index(state, n, goals[n].shape[0])
            slot = goals[n][g]
            if keep_start[j]:  # the same goal, so the previous start is one of its start cells
                x, y, k = start[n, 0], start[n, 1], int(start[n, 2])
            else:
                lo, hi = offsets[n][g], offsets[n][g + 1]
                cell = starts[n][lo + draw_index(state, n, hi - lo)]
                x, y = (cell % w + 0.5) * CELL, (cell // w + 0.5) * CELL
                k = draw_index(state, n, HEADINGS)
        for r in range(h):
            for c in range(w):
                f_inst[n, r, c] = f_i[slot, r, c]
                f_succ[n, r, c] = f_s[slot, r, c]
        goal[n] = cats[n][slot]
        pos[n, 0], pos[n, 1] = x, y
        heading[n] = k
        pitch[n] = 0
        start[n, 0], start[n, 1], start[n, 2] = x, y, k
        steps[n] = 0
        path_len[n] = 0.0
        trace[n, 0, 0], trace[n, 0, 1] = x, y
        l0[n] = field_at(f_succ[n], x, y)
        prev_dist[n] = field_at(f_inst[n], x, y)


@njit(cache=True)
def goal_and_gps(goal, pos, start, onehot, gps):
    """One-hot goal category and the (forward, right) offset from the episode start in the start frame."""
    onehot[:] = 0.0
    for n in range(goal.shape[0]):
        onehot[n, goal[n]] = 1.0
        k = int(start[n, 2])
        dx, dy = pos[n, 0] - start[n, 0], pos[n, 1] - start[n, 1]
        gps[n, 0] = dx * COS[k] + dy * SIN[k]
        gps[n, 1] = -dx * SIN[k] + dy * COS[k]


@njit(cache=True)
def nearest_instances(idx, f_inst, objects, nobj, goal, pos, out):
    """Where the goal instance nearest along the floor lies, (x, y) into ``out`` for each env ``idx[j]``:
    down the to-instance field from the agent to the cell next to an instance, then the goal category's
    instance closest to that cell."""
    for j in range(idx.shape[0]):
        n = idx[j]
        f = f_inst[n]
        h, w = f.shape
        r, c = int(pos[n, 1] / CELL), int(pos[n, 0] / CELL)
        for _ in range(h * w):  # the window spans the longest move, so each step goes down
            br, bc = r, c
            for rr in range(max(r - 2, 0), min(r + 3, h)):
                for cc in range(max(c - 2, 0), min(c + 3, w)):
                    if f[rr, cc] < f[br, bc]:
                        br, bc = rr, cc
            if br == r and bc == c:
                break
            r, c = br, bc
        y, x = (r + 0.5) * CELL, (c + 0.5) * CELL
        best = np.inf
        for i in range(nobj[n]):
            if int(objects[n, i, 2]) == goal[n]:
                d = math.hypot(objects[n, i, 0] - x, objects[n, i, 1] - y)
                if d < best:
                    best = d
                    out[n, 0], out[n, 1] = objects[n, i, 0], objects[n, i, 1]


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
