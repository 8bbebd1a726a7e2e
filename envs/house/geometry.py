"""Camera and agent geometry shared by the renderer, the task rules and the oracle (Numba helpers).

World coordinates are metres: ``x`` along grid columns, ``y`` along grid rows (``y`` grows downwards on
the top-down map). Heading ``k`` (0..11) looks along ``(cos 30k°, sin 30k°)``; turning right adds 30°
(clockwise on the map). The camera has a 90° field of view both ways on square images and looks up or
down by ``PITCH_STEP`` per pitch level (-1, 0, +1), rendered as a vertical shift of the horizon.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from envs.house.layout import CELL, DOOR, FREE, WALL

CAM_H = 1.25  # camera height (m)
CEIL_H = 2.5  # ceiling height (m)
DOOR_H = 2.1  # top of door openings (m)
RADIUS = 0.1  # agent half-extent for collisions (m)
STEP = 0.25  # forward step (m)
HEADINGS = 12
PITCH_MAX = 1  # pitch levels -1..1 (-30°..30°)
PITCH_TAN = math.tan(math.radians(30.0))
SUCCESS_DIST = 2.0  # geodesic success radius (m)
VIEW_DIST = 1.75  # success-region cells keep this margin below SUCCESS_DIST (agent is anywhere in a cell)

COS = np.cos(np.arange(HEADINGS) * np.pi / 6)
SIN = np.sin(np.arange(HEADINGS) * np.pi / 6)
COS[np.abs(COS) < 1e-12] = 0.0
SIN[np.abs(SIN) < 1e-12] = 0.0


@njit(cache=True)
def passable(grid, x, y):
    """Whether an agent (square of half-extent RADIUS) centred at (x, y) touches no wall or object."""
    h, w = grid.shape
    for dx in (-RADIUS, RADIUS):
        for dy in (-RADIUS, RADIUS):
            c = int(math.floor((x + dx) / CELL))
            r = int(math.floor((y + dy) / CELL))
            if r < 0 or c < 0 or r >= h or c >= w:
                return False
            g = grid[r, c]
            if g != FREE and g != DOOR:
                return False
    return True


@njit(cache=True)
def line_of_sight(grid, x0, y0, x1, y1):
    """No wall cell on the segment (x0, y0)-(x1, y1): grid traversal (Amanatides-Woo)."""
    c, r = int(math.floor(x0 / CELL)), int(math.floor(y0 / CELL))
    c1, r1 = int(math.floor(x1 / CELL)), int(math.floor(y1 / CELL))
    dx, dy = x1 - x0, y1 - y0
    sc = 1 if dx > 0 else -1
    sr = 1 if dy > 0 else -1
    tdx = CELL / abs(dx) if dx != 0 else 1e30
    tdy = CELL / abs(dy) if dy != 0 else 1e30
    tx = ((c + (sc > 0)) * CELL - x0) / dx if dx != 0 else 1e30
    ty = ((r + (sr > 0)) * CELL - y0) / dy if dy != 0 else 1e30
    for _ in range(4 * (abs(c1 - c) + abs(r1 - r)) + 4):
        if grid[r, c] == WALL:
            return False
        if c == c1 and r == r1:
            return True
        if tx < ty:
            tx += tdx
            c += sc
        else:
            ty += tdy
            r += sr
    return True


@njit(cache=True)
def in_view(x, y, k, pitch, ox, oy, oz):
    """Whether the point (ox, oy, height oz) projects into the image of a camera at (x, y, k, pitch)."""
    rx, ry = ox - x, oy - y
    d = rx * COS[k] + ry * SIN[k]
    if d <= 0.05:
        return False
    lat = -rx * SIN[k] + ry * COS[k]
    if abs(lat) > d:
        return False
    v = pitch * PITCH_TAN - (oz - CAM_H) / d  # image row offset from the centre, in focal lengths
    return abs(v) <= 1.0


@njit(cache=True)
def field_at(field, x, y):
    """Geodesic distance at a continuous point: min over nearby cells of cell value + straight distance."""
    h, w = field.shape
    c0, r0 = int(math.floor(x / CELL)), int(math.floor(y / CELL))
    best = np.inf
    for r in range(max(r0 - 1, 0), min(r0 + 2, h)):
        for c in range(max(c0 - 1, 0), min(c0 + 2, w)):
            v = field[r, c]
            if v < np.inf:
                d = v + math.hypot((c + 0.5) * CELL - x, (r + 0.5) * CELL - y)
                if d < best:
                    best = d
    return best
