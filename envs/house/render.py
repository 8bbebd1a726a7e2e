"""Batched first-person RGB-D rendering: a column ray-caster over the house grid (Numba, one core).

Pass 1 walks the grid per image column to the wall (DDA, Wolfenstein style); pass 2 fills the image row
by row: floor and ceiling pixels are cast per row (their distance depends on the row only) and coloured
by the room they fall in, the floor with a per-room pattern; doorways get a lintel above the opening;
objects are billboards with per-category silhouettes, drawn far to near against the per-column wall
depth. Looking up / down shifts the horizon. Depth is the distance along the horizontal view axis (m).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from envs.house.geometry import CAM_H, CEIL_H, COS, DOOR_H, PITCH_TAN, SIN
from envs.house.layout import CELL, DOOR, WALL
from envs.house.sprites import shade

JAMB = np.array([120.0, 80.0, 45.0], np.float32)
TEX, TEX_PER_M = 64, 32.0  # floor texture: 64x64 texels over a 2 m period
INV_CELL = 1.0 / CELL


def _floor_textures() -> np.ndarray:
    """Brightness of the floor patterns over one 2 m x 2 m period: tiles, planks, carpet."""
    u = (np.arange(TEX) + 0.5) / TEX_PER_M
    x, y = np.meshgrid(u, u)  # x along columns, y along rows
    tiles = np.where((np.floor(x * 2) + np.floor(y * 2)) % 2 == 1, 1.0, 0.9)
    tiles[((x * 2) % 1 < 0.05) | ((y * 2) % 1 < 0.05)] = 0.7
    row = np.floor(y * 5)
    planks = 0.88 + 0.12 * ((row * 7) % 3) / 2.0
    planks[((y * 5) % 1 < 0.07) | (((x + 0.5 * (row % 2)) % 1.0) < 0.025)] = 0.72
    carpet = 0.93 + 0.04 * np.cos(x * 37.0) * np.cos(y * 41.0)
    return np.stack([tiles, planks, carpet]).astype(np.float32)


FLOOR_TEX = _floor_textures()


@njit(cache=True, inline="always")
def _fog(t):
    return 1.0 / (1.0 + 0.09 * t)


@njit(cache=True, inline="always")
def _put(rgb, n, y, x, r, g, b, s):
    rgb[n, y, x, 0] = np.uint8(min(r * s, 255.0))
    rgb[n, y, x, 1] = np.uint8(min(g * s, 255.0))
    rgb[n, y, x, 2] = np.uint8(min(b * s, 255.0))


@njit(cache=True)
def render(grid, room, style, objects, nobj, pos, heading, pitch, cat_shape, cat_color, cat_size, rgb, depth):
    """Render every env of the batch into ``rgb`` (N, H, W, 3) uint8 and ``depth`` (N, H, W, 1) float32."""
    n_env, H, W = rgb.shape[0], rgb.shape[1], rgb.shape[2]
    f = 0.5 * W  # 90° horizontal (and vertical) field of view
    rowdist = np.empty(H)
    rowfog = np.empty(H)
    zbuf = np.empty(W)
    rdx, rdy = np.empty(W), np.empty(W)
    wpix = np.empty((W, 6), np.uint8)  # wall and baseboard colour per column
    pattern = np.empty(style.shape[1], np.int64)
    wy0, wy1 = np.empty(W, np.int64), np.empty(W, np.int64)
    wbase = np.empty(W)
    wroom = np.empty(W, np.int64)
    mixed = np.empty(W, np.bool_)
    doort = np.empty(W)
    order = np.empty(objects.shape[1], np.int64)
    odepth = np.empty(objects.shape[1])
    tex = FLOOR_TEX
    for n in range(n_env):
        g, rm, st = grid[n], room[n], style[n]
        gh, gw = g.shape
        for k in range(st.shape[0]):
            pattern[k] = int(st[k, 9])
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
        home = rm[int(py * INV_CELL), int(px * INV_CELL)]
        # pass 1, per column: walk the grid to the wall (DDA in cell units)
        for x in range(W):
            camx = 2.0 * (x + 0.5) / W - 1.0
            dx, dy = fx + rx * camx, fy + ry * camx
            rdx[x], rdy[x] = dx, dy
            cx, cy = px * INV_CELL, py * INV_CELL
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
            door_t = -1.0
            side = 0
            t_enter = 0.0
            pmx, pmy = mx, my  # the last cell before the wall: its room colours the wall
            while True:
                pmx, pmy = mx, my
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
            last = rm[pmy, pmx] if rm[pmy, pmx] >= 0 else home
            d = max(t_enter * CELL, 1e-3)
            zbuf[x] = d
            wroom[x] = last
            mixed[x] = door_t >= 0.0  # rooms only meet at doors: floor and ceiling of more than one room
            doort[x] = door_t
            wr, wg, wb = st[last, 3], st[last, 4], st[last, 5]
            if g[my, min(mx + 1, gw - 1)] == DOOR or g[my, max(mx - 1, 0)] == DOOR \
                    or g[min(my + 1, gh - 1), mx] == DOOR or g[max(my - 1, 0), mx] == DOOR:
                wr, wg, wb = JAMB[0], JAMB[1], JAMB[2]  # door frame
            ws = (1.0 if side == 0 else 0.8) * _fog(d)
            wpix[x, 0], wpix[x, 1], wpix[x, 2] = np.uint8(wr * ws), np.uint8(wg * ws), np.uint8(wb * ws)
            ws *= 0.55  # baseboard
            wpix[x, 3], wpix[x, 4], wpix[x, 5] = np.uint8(wr * ws), np.uint8(wg * ws), np.uint8(wb * ws)
            fd = f / d
            wy0[x] = min(max(int(math.ceil(horizon - (CEIL_H - CAM_H) * fd - 0.5)), 0), H)
            wy1[x] = min(max(int(math.ceil(horizon + CAM_H * fd - 0.5)), 0), H)
            wbase[x] = horizon + (CAM_H - 0.1) * fd  # baseboard below 0.1 m
        # pass 2, per row: ceiling, wall and floor pixels
        for y in range(H):
            t_row, fog = rowdist[y], rowfog[y]
            ro, do = rgb[n, y], depth[n, y]
            col = 6 if y + 0.5 <= horizon else 0  # ceiling or floor colour of the room
            for x in range(W):
                if y < wy0[x] or y >= wy1[x]:
                    t = min(t_row, zbuf[x])
                    k = wroom[x]
                    s = fog
                    if col == 0 or mixed[x]:
                        wx, wy = px + rdx[x] * t, py + rdy[x] * t
                        if mixed[x]:
                            k = rm[int(wy * INV_CELL), int(wx * INV_CELL)]
                            if k < 0:
                                k = wroom[x]
                        if col == 0:
                            s *= tex[pattern[k], int(wy * TEX_PER_M) & 63, int(wx * TEX_PER_M) & 63]
                    ro[x, 0] = np.uint8(st[k, col] * s)
                    ro[x, 1] = np.uint8(st[k, col + 1] * s)
                    ro[x, 2] = np.uint8(st[k, col + 2] * s)
                    do[x, 0] = t
                else:
                    b = 3 if y + 0.5 > wbase[x] else 0
                    ro[x, 0] = wpix[x, b]
                    ro[x, 1] = wpix[x, b + 1]
                    ro[x, 2] = wpix[x, b + 2]
                    do[x, 0] = zbuf[x]
        for x in range(W):  # lintel above the doorway nearest along the ray
            door_t = doort[x]
            if door_t > 0.05:
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
    visible = 0
    for i in range(m):  # keep the objects in front of the camera and within the field of view
        d = (objs[i, 0] - px) * fx + (objs[i, 1] - py) * fy
        lat = -(objs[i, 0] - px) * fy + (objs[i, 1] - py) * fx
        if d >= 0.1 and abs(lat) - 0.5 * cat_size[int(objs[i, 2]), 0] < d:
            order[visible] = i
            odepth[visible] = -d
            visible += 1
    sort = np.argsort(odepth[:visible])
    for j in range(visible):
        i = order[sort[j]]
        d = -odepth[sort[j]]
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
