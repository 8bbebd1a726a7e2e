"""Geodesic distance fields on the house grid, for every category of a house at once (Numba).

Per goal category a house holds two fields over navigable cells (computed once per house, cached):
- ``to_instance``: geodesic distance from each cell centre to the centre of the nearest instance;
- ``to_success``: geodesic distance to the *success region*, the cells within ``VIEW_DIST`` of an
  instance that also see it from anywhere in the cell (no wall in between, in view at some pitch). It is the shortest-path length
  used by SPL and soft-SPL and the field the oracle descends.
The graph has 16 neighbours per cell (straight, diagonal and knight moves, no corner cutting), which keeps
the grid metric within ~3% of the Euclidean one. The allowed moves of every cell are computed once per
house as a bit mask, then each category runs one Dijkstra over it.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from envs.house import categories
from envs.house.geometry import CAM_H, PITCH_MAX, PITCH_TAN, VIEW_DIST, line_of_sight
from envs.house.layout import CELL, DOOR, FREE, House

MOVES = np.array([(dr, dc) for dr in range(-2, 3) for dc in range(-2, 3)
                  if (dr, dc) != (0, 0) and math.gcd(abs(dr), abs(dc)) == 1], np.int64)
MOVE_LEN = (CELL * np.hypot(MOVES[:, 0], MOVES[:, 1])).astype(np.float32)


@njit(cache=True, inline="always")
def _nav(g):
    return g == FREE or g == DOOR


@njit(cache=True, inline="always")
def move_clear(grid, r, c, dr, dc):
    """Both ends navigable and no corner cut: the cells the straight segment crosses are navigable."""
    h, w = grid.shape
    rr, cc = r + dr, c + dc
    if rr < 0 or cc < 0 or rr >= h or cc >= w or not _nav(grid[r, c]) or not _nav(grid[rr, cc]):
        return False
    if abs(dr) == 1 and abs(dc) == 1:
        return _nav(grid[r + dr, c]) and _nav(grid[r, c + dc])
    if abs(dr) == 2:  # knight move (2, 1): crosses (1, 0) and (1, 1)
        sr = dr // 2
        return _nav(grid[r + sr, c]) and _nav(grid[r + sr, c + dc])
    if abs(dc) == 2:
        sc = dc // 2
        return _nav(grid[r, c + sc]) and _nav(grid[r + dr, c + sc])
    return True


@njit(cache=True)
def move_masks(grid, moves):
    """Bit m of cell (r, c) says whether move m is allowed from there (``move_clear``, all cells at once)."""
    h, w = grid.shape
    nav = np.zeros((h + 4, w + 4), np.bool_)  # padded by 2: moves never leave the array
    for r in range(h):
        for c in range(w):
            nav[r + 2, c + 2] = _nav(grid[r, c])
    mask = np.zeros((h, w), np.int64)
    for m in range(moves.shape[0]):
        dr, dc = moves[m, 0], moves[m, 1]
        if abs(dr) == 2:
            ar, ac, br, bc = dr // 2, 0, dr // 2, dc  # cells the segment crosses
        elif abs(dc) == 2:
            ar, ac, br, bc = 0, dc // 2, dr, dc // 2
        elif dr != 0 and dc != 0:
            ar, ac, br, bc = dr, 0, 0, dc
        else:
            ar, ac, br, bc = 0, 0, 0, 0
        bit = np.int64(1) << m
        for r in range(2, h + 2):
            for c in range(2, w + 2):
                if nav[r, c] and nav[r + dr, c + dc] and nav[r + ar, c + ac] and nav[r + br, c + bc]:
                    mask[r - 2, c - 2] |= bit
    return mask


@njit(cache=True)
def neighbours(mask, moves, lengths):
    """Per cell, its allowed moves as (count (h*w,), neighbour index (h*w, 16), move length (h*w, 16))."""
    h, w = mask.shape
    count = np.zeros(h * w, np.int64)
    nbr = np.empty((h * w, moves.shape[0]), np.int32)
    step = np.empty((h * w, moves.shape[0]), np.float32)
    for j in range(h * w):
        bits = mask[j // w, j % w]
        for m in range(moves.shape[0]):
            if bits & (1 << m):
                nbr[j, count[j]] = j + moves[m, 0] * w + moves[m, 1]
                step[j, count[j]] = lengths[m]
                count[j] += 1
    return count, nbr, step


@njit(cache=True)
def dijkstra(count, nbr, step, width, dist):
    """Relax ``dist`` (K, h, w), inf except at sources, to shortest-path distances over the graph
    (``neighbours``), one category at a time.

    Dial's bucket queue with buckets as wide as the shortest move (``width``) is exact: a cell in the
    lowest non-empty bucket cannot be improved through another cell of that bucket (that would add a whole
    move), so buckets are settled in order, each in any order, without a heap.
    """
    k_n, h, w = dist.shape
    cap = h * w * nbr.shape[1] + h * w + 1
    node = np.empty(cap, np.int32)  # entries: cell, key when pushed, next entry in the same bucket
    key = np.empty(cap, np.float32)
    nxt = np.empty(cap, np.int32)
    n_buckets = int(4.0 * h * w * CELL / width) + 8
    head = np.empty(n_buckets, np.int32)
    inv = 1.0 / width
    for k in range(k_n):
        flat = dist[k].reshape(h * w)
        head[:] = -1
        e = 0
        lo, hi = n_buckets, -1
        for j in range(h * w):
            d = flat[j]
            if d < np.inf:
                b = int(d * inv)
                node[e], key[e], nxt[e], head[b] = j, d, head[b], e
                e += 1
                lo, hi = min(lo, b), max(hi, b)
        b = lo
        while b <= hi:
            i = head[b]
            head[b] = -1
            while i >= 0:
                j, d = node[i], key[i]
                i = nxt[i]
                if d > flat[j]:
                    continue  # stale entry
                for q in range(count[j]):
                    nb = nbr[j, q]
                    v = d + step[j, q]
                    if v < flat[nb]:
                        flat[nb] = v
                        bb = max(int(v * inv), b + 1)  # never the bucket being emptied
                        node[e], key[e], nxt[e], head[bb] = nb, v, head[bb], e
                        e += 1
                        hi = max(hi, bb)
            b += 1


@njit(cache=True)
def _instance_sources(grid, objects, cat_slot, dist):
    """Navigable cells next to an instance footprint start at their straight distance to its centre."""
    h, w = grid.shape
    for i in range(objects.shape[0]):
        k = cat_slot[int(objects[i, 2])]
        ox, oy = objects[i, 0], objects[i, 1]
        orow, ocol = int(oy / CELL), int(ox / CELL)
        for r in range(max(orow - 2, 0), min(orow + 3, h)):
            for c in range(max(ocol - 2, 0), min(ocol + 3, w)):
                if _nav(grid[r, c]):
                    d = np.float32(math.hypot((c + 0.5) * CELL - ox, (r + 0.5) * CELL - oy))
                    if d < dist[k, r, c]:
                        dist[k, r, c] = d


@njit(cache=True)
def _sees_from_whole_cell(grid, x, y, ox, oy):
    """Line of sight to (ox, oy) from the cell centre (x, y) and from near its four corners: the agent may
    stand anywhere in the cell."""
    e = 0.45 * CELL
    return (line_of_sight(grid, x, y, ox, oy) and line_of_sight(grid, x - e, y - e, ox, oy)
            and line_of_sight(grid, x + e, y - e, ox, oy) and line_of_sight(grid, x - e, y + e, ox, oy)
            and line_of_sight(grid, x + e, y + e, ox, oy))


@njit(cache=True)
def _success_sources(grid, objects, heights, cat_slot, to_instance, dist):
    """Cells within VIEW_DIST of an instance (geodesic and straight) that see it at some pitch."""
    h, w = grid.shape
    reach = int(VIEW_DIST / CELL) + 1
    for i in range(objects.shape[0]):
        cat = int(objects[i, 2])
        k = cat_slot[cat]
        ox, oy, oz = objects[i, 0], objects[i, 1], 0.5 * heights[cat]
        orow, ocol = int(oy / CELL), int(ox / CELL)
        for r in range(max(orow - reach, 0), min(orow + reach + 1, h)):
            for c in range(max(ocol - reach, 0), min(ocol + reach + 1, w)):
                if not _nav(grid[r, c]) or to_instance[k, r, c] > VIEW_DIST:
                    continue
                x, y = (c + 0.5) * CELL, (r + 0.5) * CELL
                d = math.hypot(ox - x, oy - y)
                if d > VIEW_DIST:
                    continue
                if abs((oz - CAM_H) / d) - PITCH_MAX * PITCH_TAN > 0.9:  # out of view at every pitch (margin)
                    continue
                if _sees_from_whole_cell(grid, x, y, ox, oy):
                    dist[k, r, c] = 0.0


def house_fields(house: House) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(categories (K,), to_instance (K, h, w), to_success (K, h, w)) float32 fields of every category in
    ``house``, in ``house.categories`` order; computed once and cached on the house."""
    if "stack" not in house.fields:
        cats = house.categories
        slot = np.full(categories.NUM_CATEGORIES, -1, np.int64)
        slot[cats] = np.arange(len(cats))
        graph = neighbours(move_masks(house.grid, MOVES), MOVES, MOVE_LEN)
        width = float(MOVE_LEN.min())
        inst = np.full((len(cats),) + house.shape, np.inf, np.float32)
        _instance_sources(house.grid, house.objects, slot, inst)
        dijkstra(*graph, width, inst)
        succ = np.full_like(inst, np.inf)
        _success_sources(house.grid, house.objects, categories.SIZE[:, 1], slot, inst, succ)
        dijkstra(*graph, width, succ)
        house.fields["stack"] = (cats, inst, succ)
    return house.fields["stack"]


def category_fields(house: House, cat: int) -> tuple[np.ndarray, np.ndarray]:
    """(to_instance, to_success) (h, w) of category ``cat`` in ``house``."""
    cats, inst, succ = house_fields(house)
    where = np.flatnonzero(cats == cat)
    if not len(where):
        raise ValueError(f"category {categories.NAMES[cat]!r} is not in house {house.seed}")
    return inst[where[0]], succ[where[0]]
