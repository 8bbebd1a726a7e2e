"""Procedural multi-room houses on a grid floor plan, and hand-made ones from ASCII maps.

A house is a grid of 0.25 m cells (``CELL``): walls one cell thick, doors as gaps in walls, rooms with
their own floor / wall / ceiling appearance, and objects whose 3x3-cell footprint stands against a wall.
Seeds are disjoint between splits by construction (``house_seed = 3 * index + split code``) and the test
split uses room counts that train and val never produce, so "unseen" means structurally new.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from envs.house import categories
# The grid's names stay importable from here (explorer.py, tests).
from envs.house.grid import (CEIL_COLORS, CELL, DOOR, FLOOR_COLORS, FLOOR_PATTERNS, FREE,  # noqa: F401
                             MAX_GRID, MAX_OBJECTS, MAX_ROOMS, MIN_INNER, OBJECT, WALL, WALL_COLORS)

SPLITS = ("train", "val", "test")
SPLIT_CODE = {name: i for i, name in enumerate(SPLITS)}
# Layout parameters per split: test houses have room counts that train/val never have.
SPLIT_PARAMS = {
    "train": {"room_counts": (2, 3, 4, 5, 6), "room_area_m2": (12.0, 20.0), "door_cells": (3, 4)},
    "val": {"room_counts": (2, 3, 4, 5, 6), "room_area_m2": (12.0, 20.0), "door_cells": (3, 4)},
    "test": {"room_counts": (7, 8), "room_area_m2": (11.0, 16.0), "door_cells": (3, 4)},
}


@dataclass
class House:
    """One house: the grid, its rooms' appearance, its objects, and lazily computed distance fields."""

    seed: int
    split: str
    params: dict
    grid: np.ndarray  # (h, w) uint8 cell codes FREE/WALL/DOOR/OBJECT
    room: np.ndarray  # (h, w) int8 room id of each non-wall cell, -1 on walls
    room_style: np.ndarray  # (R, 10) float32: floor rgb, wall rgb, ceiling rgb, floor pattern
    objects: np.ndarray  # (M, 3) float64: x (m), y (m), category id
    fields: dict = field(default_factory=dict, repr=False)  # category -> (to instances, to success region)

    @property
    def shape(self) -> tuple[int, int]:
        return self.grid.shape

    @property
    def categories(self) -> np.ndarray:
        """Sorted ids of the categories present."""
        return np.unique(self.objects[:, 2].astype(np.int64))

    def navigable(self) -> np.ndarray:
        return (self.grid == FREE) | (self.grid == DOOR)


def split_of(house_seed: int) -> str:
    return SPLITS[house_seed % 3]


def house_seed(split: str, index: int) -> int:
    return 3 * int(index) + SPLIT_CODE[split]


def generate(seed: int) -> House:
    """The house of ``seed``; its split (``seed % 3``) fixes which layout parameters it may use."""
    from envs.house import procgen

    split = split_of(seed)
    p = SPLIT_PARAMS[split]
    grid, room, style, objects, door = procgen.generate(
        int(seed), np.asarray(p["room_counts"], np.int64), *p["room_area_m2"], *p["door_cells"])
    params = {"rooms": len(style), "door_cells": int(door), "size_cells": list(grid.shape)}
    return House(int(seed), split, params, grid, room, style, objects)


def _room_styles(rng: np.random.Generator, n: int) -> np.ndarray:
    """Per room: floor, wall and ceiling colours and a floor pattern."""
    style = np.zeros((n, 10), np.float32)
    style[:, 0:3] = FLOOR_COLORS[rng.integers(len(FLOOR_COLORS), size=n)]
    style[:, 3:6] = WALL_COLORS[rng.integers(len(WALL_COLORS), size=n)]
    style[:, 6:9] = CEIL_COLORS[rng.integers(len(CEIL_COLORS), size=n)]
    style[:, 9] = rng.integers(FLOOR_PATTERNS, size=n)
    return style


def from_ascii(text: str, objects: dict[str, str], seed: int = 0, split: str = "train") -> House:
    """A hand-made house: ``#`` wall, ``.`` floor, ``D`` door, and letters in ``objects`` mapping to a
    category name, each letter being the centre of one object (its 3x3 footprint must be floor).

    Rooms are the 4-connected floor regions between walls and doors; doors take a neighbouring room.
    """
    lines = [ln.strip() for ln in text.strip().splitlines()]
    h, w = len(lines), max(len(ln) for ln in lines)
    if h > MAX_GRID or w > MAX_GRID or h < 3 or w < 3:
        raise ValueError(f"house map must be between 3x3 and {MAX_GRID}x{MAX_GRID} cells, got {h}x{w}")
    grid = np.full((h, w), WALL, np.uint8)
    objs = []
    for r, ln in enumerate(lines):
        for c, ch in enumerate(ln.ljust(w, "#")):
            if ch == "#":
                continue
            if ch == "D":
                grid[r, c] = DOOR
            elif ch == "." or ch in objects:
                grid[r, c] = FREE
                if ch in objects:
                    objs.append(((c + 0.5) * CELL, (r + 0.5) * CELL, categories.index(objects[ch])))
            else:
                raise ValueError(f"house map: unknown character {ch!r} at row {r}, col {c}; "
                                 f"allowed: '#', '.', 'D' and object letters {sorted(objects)}")
    if (grid[0] != WALL).any() or (grid[-1] != WALL).any() or (grid[:, 0] != WALL).any() \
            or (grid[:, -1] != WALL).any():
        raise ValueError("house map must be enclosed by walls ('#') on all four sides")
    room = _label_rooms(grid)
    for x, y, _ in objs:
        r, c = int(y / CELL), int(x / CELL)
        if (grid[r - 1:r + 2, c - 1:c + 2] == WALL).any():
            raise ValueError(f"object at row {r}, col {c}: its 3x3 footprint overlaps a wall")
        grid[r - 1:r + 2, c - 1:c + 2] = OBJECT
    n = int(room.max()) + 1
    objects_arr = np.array(objs, np.float64).reshape(-1, 3)
    if len(objects_arr) == 0:
        raise ValueError("house map has no objects")
    style = _room_styles(np.random.default_rng(seed), max(n, 1))
    return House(seed, split, {"rooms": n, "hand_made": True, "size_cells": [h, w]}, grid, room, style,
                 objects_arr)


def _label_rooms(grid: np.ndarray) -> np.ndarray:
    h, w = grid.shape
    room = np.full((h, w), -1, np.int8)
    k = 0
    for r0 in range(h):
        for c0 in range(w):
            if grid[r0, c0] != FREE or room[r0, c0] >= 0:
                continue
            stack = [(r0, c0)]
            room[r0, c0] = k
            while stack:
                r, c = stack.pop()
                for rr, cc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                    if grid[rr, cc] == FREE and room[rr, cc] < 0:
                        room[rr, cc] = k
                        stack.append((rr, cc))
            k += 1
    for r, c in np.argwhere(grid == DOOR):
        near = [room[rr, cc] for rr, cc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)) if room[rr, cc] >= 0]
        room[r, c] = near[0] if near else 0
    return room


def to_ascii(house: House) -> tuple[str, dict[str, str]]:
    """The map text and object letters that ``from_ascii`` turns back into ``house`` (hand-made houses)."""
    chars = np.full(house.shape, ".", "<U1")
    chars[house.grid == WALL] = "#"
    chars[house.grid == DOOR] = "D"
    letters: dict[int, str] = {}
    for x, y, cat in house.objects:
        letter = letters.setdefault(int(cat), "abcdefghijklmnopqrstuvwxyz"[len(letters)])
        chars[int(y / CELL), int(x / CELL)] = letter
    return "\n".join("".join(row) for row in chars), {v: categories.NAMES[k] for k, v in letters.items()}
