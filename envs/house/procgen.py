"""The procedural house generator proper, in Numba (a house in well under a millisecond).

Binary space partition of the house rectangle into rooms (walls one cell thick, shared); a random spanning
tree of doors plus a few extra doors (loops); objects against walls with their 3x3 footprint, apart from
each other and clear of doorways, drawn from a per-house subset of categories so that some categories
have several instances; per-room floor / wall / ceiling colours and floor pattern. Numba's own seeded
generator makes the result a pure function of the seed.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from envs.house.categories import NUM_CATEGORIES
from envs.house.grid import (CEIL_COLORS, CELL, DOOR, FLOOR_COLORS, FLOOR_PATTERNS, MAX_GRID, MAX_OBJECTS,
                             MAX_ROOMS, MIN_INNER, OBJECT, WALL, WALL_COLORS)


@njit(cache=True)
def _split_rooms(h, w, n_rooms):
    rooms = np.zeros((MAX_ROOMS, 4), np.int64)
    rooms[0] = (0, 0, h - 1, w - 1)
    n = 1
    big = 2 * (MIN_INNER + 1)
    while n < n_rooms:
        best, best_area = -1, -1
        for i in range(n):
            rows, cols = rooms[i, 2] - rooms[i, 0], rooms[i, 3] - rooms[i, 1]
            if (rows >= big or cols >= big) and rows * cols > best_area:
                best, best_area = i, rows * cols
        if best < 0:
            break  # nothing can be split further: fewer rooms
        r0, c0, r1, c1 = rooms[best]
        rows, cols = r1 - r0, c1 - c0
        axis = 0 if rows > cols or (rows == cols and np.random.random() < 0.5) else 1
        if (axis == 0 and rows < big) or (axis == 1 and cols < big):
            axis = 1 - axis
        lo, hi = (r0, r1) if axis == 0 else (c0, c1)
        margin = max(MIN_INNER + 1, int(0.3 * (hi - lo)))  # near the middle: halves stay splittable
        s = np.random.randint(lo + margin, hi - margin + 1)
        if axis == 0:
            rooms[best] = (r0, c0, s, c1)
            rooms[n] = (s, c0, r1, c1)
        else:
            rooms[best] = (r0, c0, r1, s)
            rooms[n] = (r0, s, r1, c1)
        n += 1
    return rooms[:n]


@njit(cache=True)
def _shared_wall(a, b, door):
    """(axis, line, lo, hi) of the wall two rooms share with space for a door (frames off corners), else axis -1."""
    for axis in range(2):
        p0, p1, q0, q1 = (a[0], a[2], b[0], b[2]) if axis == 0 else (a[1], a[3], b[1], b[3])
        if p1 == q0:
            line = p1
        elif p0 == q1:
            line = p0
        else:
            continue
        lo_a, hi_a = (a[1], a[3]) if axis == 0 else (a[0], a[2])
        lo_b, hi_b = (b[1], b[3]) if axis == 0 else (b[0], b[2])
        lo, hi = max(lo_a, lo_b) + 2, min(hi_a, hi_b) - 1
        if hi - lo >= door:
            return axis, line, lo, hi
    return -1, 0, 0, 0


@njit(cache=True)
def _find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=True)
def _carve_doors(grid, room, rooms, door):
    n = rooms.shape[0]
    edges = np.zeros((n * n, 6), np.int64)  # i, j, axis, line, lo, hi
    weight = np.zeros(n * n)
    m = 0
    for i in range(n):
        for j in range(i + 1, n):
            axis, line, lo, hi = _shared_wall(rooms[i], rooms[j], door)
            if axis >= 0:
                edges[m] = (i, j, axis, line, lo, hi)
                weight[m] = np.random.random()
                m += 1
    parent = np.arange(n)
    for e in np.argsort(weight[:m]):
        i, j, axis, line, lo, hi = edges[e]
        joined = _find(parent, i) != _find(parent, j)
        if not joined and np.random.random() > 0.3:
            continue
        parent[_find(parent, i)] = _find(parent, j)
        start = np.random.randint(lo, hi - door + 1)
        for t in range(start, start + door):
            if axis == 0:
                grid[line, t] = DOOR
                room[line, t] = i
            else:
                grid[t, line] = DOOR
                room[t, line] = i


@njit(cache=True)
def _place_objects(grid, rooms):
    h, w = grid.shape
    n_cat = np.random.randint(8, 15)
    house_cats = np.random.permutation(NUM_CATEGORIES)[:n_cat]
    ok = np.ones((h, w), np.bool_)
    for r in range(h):
        for c in range(w):
            if grid[r, c] == DOOR:
                ok[max(r - 4, 0):r + 5, max(c - 4, 0):c + 5] = False
    objects = np.zeros((MAX_OBJECTS, 3))
    m = 0
    ring = np.zeros((4 * MAX_GRID, 2), np.int64)
    for q in range(rooms.shape[0]):
        r0, c0, r1, c1 = rooms[q]
        k = 0
        for c in range(c0 + 2, c1 - 1):  # centres two cells off the walls; no one-cell pockets at corners
            if c != c0 + 3 and c != c1 - 3:
                ring[k] = (r0 + 2, c)
                ring[k + 1] = (r1 - 2, c)
                k += 2
        for r in range(r0 + 4, r1 - 3):
            ring[k] = (r, c0 + 2)
            ring[k + 1] = (r, c1 - 2)
            k += 2
        area = (r1 - r0 - 1) * (c1 - c0 - 1) * CELL * CELL
        want = min(max(int(round(area / 6.0 + np.random.uniform(-0.5, 1.5))), 2), 6)
        got = 0
        for i in np.random.permutation(k):
            r, c = ring[i]
            if not ok[r, c]:
                continue
            objects[m, 0], objects[m, 1] = (c + 0.5) * CELL, (r + 0.5) * CELL
            objects[m, 2] = house_cats[np.random.randint(0, n_cat)]
            m += 1
            ok[max(r - 5, 0):r + 6, max(c - 5, 0):c + 6] = False
            got += 1
            if got == want or m == MAX_OBJECTS:
                break
        if m == MAX_OBJECTS:
            break
    for i in range(m):
        r, c = int(objects[i, 1] / CELL), int(objects[i, 0] / CELL)
        grid[r - 1:r + 2, c - 1:c + 2] = OBJECT
    return objects[:m].copy()


@njit(cache=True)
def _room_styles(n):
    style = np.zeros((n, 10), np.float32)
    for k in range(n):
        style[k, 0:3] = FLOOR_COLORS[np.random.randint(0, len(FLOOR_COLORS))]
        style[k, 3:6] = WALL_COLORS[np.random.randint(0, len(WALL_COLORS))]
        style[k, 6:9] = CEIL_COLORS[np.random.randint(0, len(CEIL_COLORS))]
        style[k, 9] = np.random.randint(0, FLOOR_PATTERNS)
    return style


@njit(cache=True)
def generate(seed, room_counts, area_lo, area_hi, door_lo, door_hi):
    """(grid, room, room_style, objects, door width) of the house of ``seed`` with these layout parameters."""
    np.random.seed(seed % 4294967296)
    n_rooms = room_counts[np.random.randint(0, len(room_counts))]
    door = np.random.randint(door_lo, door_hi + 1)
    area = n_rooms * np.random.uniform(area_lo, area_hi)
    aspect = np.random.uniform(0.75, 1.33)
    while True:  # grow the plan until it holds n_rooms rooms (or reaches the largest size)
        w = min(max(int(round(np.sqrt(area * aspect) / CELL)), 2 * MIN_INNER + 3), MAX_GRID - 1) + 1
        h = min(max(int(round(area / (w * CELL) / CELL)), 2 * MIN_INNER + 3), MAX_GRID - 1) + 1
        rooms = _split_rooms(h, w, n_rooms)
        if rooms.shape[0] == n_rooms or (h == MAX_GRID and w == MAX_GRID):
            break
        area *= 1.15
    grid = np.zeros((h, w), np.uint8)
    room = np.full((h, w), -1, np.int8)
    for k in range(rooms.shape[0]):
        r0, c0, r1, c1 = rooms[k]
        grid[r0, c0:c1 + 1] = WALL
        grid[r1, c0:c1 + 1] = WALL
        grid[r0:r1 + 1, c0] = WALL
        grid[r0:r1 + 1, c1] = WALL
        room[r0 + 1:r1, c0 + 1:c1] = k
    _carve_doors(grid, room, rooms, door)
    objects = _place_objects(grid, rooms)
    return grid, room, _room_styles(rooms.shape[0]), objects, door
