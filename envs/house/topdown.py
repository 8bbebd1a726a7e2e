"""Top-down map of a house for videos and reports: walls, doors, rooms, objects, goal instances and the
success region, the agent and its path (OpenCV drawing)."""
from __future__ import annotations

import cv2
import numpy as np

from envs.house import categories
from envs.house.geometry import COS, SIN
from envs.house.layout import CELL, DOOR, OBJECT, WALL, House

WALL_RGB = (45, 45, 50)
DOOR_RGB = (150, 100, 55)
PATH_RGB = (30, 90, 255)
GOAL_RGB = (255, 40, 40)
REGION_RGB = np.array((120, 230, 120), np.float32)


def map_geometry(shape: tuple[int, int], size: int) -> tuple[float, float, float]:
    """(pixels per cell, x offset, y offset) that fit a house of ``shape`` cells centred in ``size`` px."""
    h, w = shape
    scale = size / max(h, w)
    return scale, 0.5 * (size - w * scale), 0.5 * (size - h * scale)


def world_to_map(shape: tuple[int, int], xy: np.ndarray, size: int) -> np.ndarray:
    """Map pixel coordinates (col, row) float of world points ``xy`` (..., 2) in metres."""
    scale, ox, oy = map_geometry(shape, size)
    xy = np.asarray(xy, np.float64)
    return np.stack([ox + xy[..., 0] / CELL * scale, oy + xy[..., 1] / CELL * scale], -1)


def draw(house: House, size: int = 256, goal: int | None = None, success_field: np.ndarray | None = None,
         pose: tuple[float, float, int] | None = None, path: np.ndarray | None = None) -> np.ndarray:
    """RGB uint8 (size, size, 3) map. ``pose`` = (x, y, heading index); ``path`` (T, 2) metres."""
    h, w = house.shape
    cells = np.full((h, w, 3), 255, np.float32)
    floor = house.room >= 0
    cells[floor] = 0.45 * house.room_style[house.room[floor].astype(np.int64), 0:3] + 0.55 * 255
    if success_field is not None:
        region = (success_field == 0)[:h, :w]
        cells[region] = 0.5 * cells[region] + 0.5 * REGION_RGB
    cells[house.grid == WALL] = WALL_RGB
    cells[house.grid == DOOR] = DOOR_RGB
    cells[house.grid == OBJECT] = 0.6 * cells[house.grid == OBJECT] + 0.4 * 90
    scale, ox, oy = map_geometry((h, w), size)
    img = np.full((size, size, 3), 255, np.uint8)
    pw, ph = int(round(w * scale)), int(round(h * scale))
    x0, y0 = int(round(ox)), int(round(oy))
    img[y0:y0 + ph, x0:x0 + pw] = cv2.resize(cells.astype(np.uint8), (pw, ph), interpolation=cv2.INTER_NEAREST)
    px = world_to_map((h, w), house.objects[:, :2], size) if len(house.objects) else np.zeros((0, 2))
    rad = max(2, int(round(1.2 * scale)))
    for (cx, cy), cat in zip(px, house.objects[:, 2].astype(np.int64)):
        center = (int(round(cx)), int(round(cy)))
        cv2.circle(img, center, rad, tuple(int(v) for v in categories.COLOR[cat, 0]), -1, cv2.LINE_AA)
        cv2.circle(img, center, rad, (0, 0, 0), 1, cv2.LINE_AA)
        if goal is not None and cat == goal:
            cv2.circle(img, center, rad + max(2, rad // 2), GOAL_RGB, 2, cv2.LINE_AA)
    if path is not None and len(path) > 1:
        pts = np.round(world_to_map((h, w), path, size)).astype(np.int32)
        cv2.polylines(img, [pts.reshape(-1, 1, 2)], False, PATH_RGB, max(1, size // 256), cv2.LINE_AA)
    if pose is not None:
        x, y, k = pose
        c = world_to_map((h, w), np.array([x, y]), size)
        tip = world_to_map((h, w), np.array([x + 0.45 * COS[k], y + 0.45 * SIN[k]]), size)
        left = world_to_map((h, w), np.array([x - 0.2 * COS[k] + 0.2 * SIN[k], y - 0.2 * SIN[k] - 0.2 * COS[k]]),
                            size)
        right = world_to_map((h, w), np.array([x - 0.2 * COS[k] - 0.2 * SIN[k], y - 0.2 * SIN[k] + 0.2 * COS[k]]),
                             size)
        tri = np.round(np.stack([tip, left, right])).astype(np.int32)
        cv2.fillPoly(img, [tri], (20, 20, 20), cv2.LINE_AA)
        cv2.circle(img, tuple(int(v) for v in np.round(c)), max(1, rad // 2), (255, 255, 255), -1)
    return img
