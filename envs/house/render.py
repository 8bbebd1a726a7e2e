"""Batched first-person RGB-D rendering: a column ray-caster over the house grid (Numba, one core).

Per image column a DDA walk through the grid finds the wall (Wolfenstein style); floor and ceiling
pixels are cast per row (their distance depends on the row only), coloured by the room they fall in;
doorways get a lintel above the opening; objects are billboards with per-category silhouettes, drawn
far to near against the per-column wall depth. Looking up / down shifts the horizon. Depth is the
distance along the horizontal viewing direction, in metres.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from envs.house.geometry import CAM_H, CEIL_H, COS, DOOR_H, PITCH_TAN, SIN
from envs.house.layout import CELL, DOOR, WALL
from envs.house.sprites import shade

JAMB = np.array([120.0, 80.0, 45.0], np.float32)


@njit(cache=True, inline="always")
def _fog(t):
    return 1.0 / (1.0 + 0.09 * t)


@njit(cache=True, inline="always")
def _put(rgb, n, y, x, r, g, b, s):
    rgb[n, y, x, 0] = np.uint8(min(r * s, 255.0))
    rgb[n, y, x, 1] = np.uint8(min(g * s, 255.0))
    rgb[n, y, x, 2] = np.uint8(min(b * s, 255.0))


@njit(cache=True)
def _floor_shade(pattern, wx, wy):
    if pattern == 0:  # 0.5 m tiles with grout lines
        fx, fy = wx * 2.0, wy * 2.0
        gx, gy = fx - math.floor(fx), fy - math.floor(fy)
        if gx < 0.05 or gy < 0.05:
            return 0.7
        return 1.0 if (int(math.floor(fx)) + int(math.floor(fy))) & 1 else 0.9
    if pattern == 1:  # planks along x, 0.2 m wide, staggered joints
        row = int(math.floor(wy * 5.0))
        fx = wx * 0.8 + 0.37 * row
        if (wy * 5.0) - row < 0.07 or fx - math.floor(fx) < 0.02:
            return 0.72
        return 0.88 + 0.12 * ((row * 7) % 3) / 2.0
    return 0.95  # carpet


@njit(cache=True)
def render(grid, room, style, objects, nobj, pos, heading, pitch, cat_shape, cat_color, cat_size, rgb, depth):
    """Render every env of the batch into ``rgb`` (N, H, W, 3) uint8 and ``depth`` (N, H, W, 1) float32."""
    n_env, H, W = rgb.shape[0], rgb.shape[1], rgb.shape[2]
    f = 0.5 * W  # 90° horizontal (and vertical) field of view
    rowdist = np.empty(H)
    rowfog = np.empty(H)
    zbuf = np.empty(W)
    order = np.empty(objects.shape[1], np.int64)
    odepth = np.empty(objects.shape[1])
    for n in range(n_env):
        g, rm, st = grid[n], room[n], style[n]
        px, py = pos[n, 0], pos[n, 1]
        fx, fy = COS[heading[n]], SIN[heading[n]]
        rx, ry = -fy, fx
        horizon = 0.5 * H + pitch[n] * PITCH_TAN * f
        for y in range(H):
            yc = y + 0.5 - horizon
            if yc > 0:
                rowdist[y] = CAM_H * f / yc
            elif yc < 0:
                rowdist[y] = (CEIL_H - CAM_H) * f / -yc
            else:
                rowdist[y] = 1e3
            rowfog[y] = _fog(rowdist[y])
        home = rm[int(py / CELL), int(px / CELL)]
        for x in range(W):
            camx = 2.0 * (x + 0.5) / W - 1.0
            dx, dy = fx + rx * camx, fy + ry * camx
            # DDA in cell units
            cx, cy = px / CELL, py / CELL
            mx, my = int(cx), int(cy)
            ddx = abs(1.0 / dx) if dx != 0.0 else 1e30
            ddy = abs(1.0 / dy) if dy != 0.0 else 1e30
            if dx < 0:
                sx, sdx = -1, (cx - mx) * ddx
            else:
                sx, sdx = 1, (mx + 1.0 - cx) * ddx
            if dy < 0:
                sy, sdy = -1, (cy - my) * ddy
            else:
                sy, sdy = 1, (my + 1.0 - cy) * ddy
            last = rm[my, mx] if rm[my, mx] >= 0 else home
            door_t = -1.0
            side = 0
            while True:
                if sdx < sdy:
                    t_enter = sdx
                    sdx += ddx
                    mx += sx
                    side = 0
                else:
                    t_enter = sdy
                    sdy += ddy
                    my += sy
                    side = 1
                c = g[my, mx]
                if c == WALL:
                    break
                if c == DOOR and door_t < 0.0:
                    door_t = t_enter * CELL
                if rm[my, mx] >= 0:
                    last = rm[my, mx]
            d = max(t_enter * CELL, 1e-3)
            zbuf[x] = d
            # wall colour: room side, darker on y-faces, door jambs in wood
            wr, wg, wb = st[last, 3], st[last, 4], st[last, 5]
            if g[my, mx + 1 if mx + 1 < g.shape[1] else mx] == DOOR or g[my, mx - 1 if mx > 0 else mx] == DOOR \
                    or g[my + 1 if my + 1 < g.shape[0] else my, mx] == DOOR or g[my - 1 if my > 0 else my, mx] == DOOR:
                wr, wg, wb = JAMB[0], JAMB[1], JAMB[2]
            ws = (1.0 if side == 0 else 0.8) * _fog(d)
            y_top = horizon - f * (CEIL_H - CAM_H) / d
            y_bot = horizon + f * CAM_H / d
            y0 = min(max(int(math.ceil(y_top - 0.5)), 0), H)
            y1 = min(max(int(math.ceil(y_bot - 0.5)), 0), H)
            for y in range(y0):  # ceiling
                t = min(rowdist[y], d)
                wx, wy = px + dx * t, py + dy * t
                k = rm[int(wy / CELL), int(wx / CELL)]
                if k < 0:
                    k = last
                s = rowfog[y]
                _put(rgb, n, y, x, st[k, 6], st[k, 7], st[k, 8], s)
                depth[n, y, x, 0] = t
            base_y = horizon + f * (CAM_H - 0.1) / d  # baseboard below 0.1 m
            for y in range(y0, y1):
                s = ws * (0.55 if y + 0.5 > base_y else 1.0)
                _put(rgb, n, y, x, wr, wg, wb, s)
                depth[n, y, x, 0] = d
            for y in range(y1, H):  # floor
                t = min(rowdist[y], d)
                wx, wy = px + dx * t, py + dy * t
                k = rm[int(wy / CELL), int(wx / CELL)]
                if k < 0:
                    k = last
                s = rowfog[y] * _floor_shade(int(st[k, 9]), wx, wy)
                _put(rgb, n, y, x, st[k, 0], st[k, 1], st[k, 2], s)
                depth[n, y, x, 0] = t
            if door_t > 0.05:  # lintel above the doorway nearest along this ray
                l0 = min(max(int(math.ceil(horizon - f * (CEIL_H - CAM_H) / door_t - 0.5)), 0), H)
                l1 = min(max(int(math.ceil(horizon - f * (DOOR_H - CAM_H) / door_t - 0.5)), 0), H)
                s = 0.9 * _fog(door_t)
                for y in range(l0, l1):
                    _put(rgb, n, y, x, JAMB[0], JAMB[1], JAMB[2], s)
                    depth[n, y, x, 0] = door_t
        _sprites(n, objects[n], nobj[n], px, py, fx, fy, horizon, f, zbuf, order, odepth,
                 cat_shape, cat_color, cat_size, rgb, depth)


@njit(cache=True)
def _sprites(n, objs, m, px, py, fx, fy, horizon, f, zbuf, order, odepth, cat_shape, cat_color, cat_size,
             rgb, depth):
    """Draw the objects of env ``n`` as billboards, far to near, where nearer than the wall."""
    H, W = rgb.shape[1], rgb.shape[2]
    for i in range(m):
        odepth[i] = (objs[i, 0] - px) * fx + (objs[i, 1] - py) * fy
    order[:m] = np.argsort(-odepth[:m])
    for j in range(m):
        i = order[j]
        d = odepth[i]
        if d < 0.1:
            continue
        lat = -(objs[i, 0] - px) * fy + (objs[i, 1] - py) * fx
        cat = int(objs[i, 2])
        half = 0.5 * cat_size[cat, 0] * f / d
        sx = 0.5 * W + f * lat / d
        x0 = max(int(math.ceil(sx - half - 0.5)), 0)
        x1 = min(int(math.ceil(sx + half - 0.5)), W)
        if x0 >= x1:
            continue
        y_top = horizon - f * (cat_size[cat, 1] - CAM_H) / d
        y_bot = horizon + f * CAM_H / d
        y0 = max(int(math.ceil(y_top - 0.5)), 0)
        y1 = min(int(math.ceil(y_bot - 0.5)), H)
        fog = _fog(d)
        shape = cat_shape[cat]
        c = cat_color[cat]
        for x in range(x0, x1):
            if d >= zbuf[x]:
                continue
            u = (x + 0.5 - sx) / half
            for y in range(y0, y1):
                v = (y_bot - (y + 0.5)) / (y_bot - y_top)
                b = shade(shape, u, v)
                if b == 0.0:
                    continue
                if b > 0:
                    _put(rgb, n, y, x, c[0, 0], c[0, 1], c[0, 2], b * fog)
                else:
                    _put(rgb, n, y, x, c[1, 0], c[1, 1], c[1, 2], -b * fog)
                depth[n, y, x, 0] = d
