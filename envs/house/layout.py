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

CELL = 0.25  # metres per grid cell
MAX_GRID = 64  # largest house side in cells (16 m)
MAX_ROOMS = 16
MAX_OBJECTS = 48
FREE, WALL, DOOR, OBJECT = 0, 1, 2, 3

SPLITS = ("train", "val", "test")
SPLIT_CODE = {name: i for i, name in enumerate(SPLITS)}
# Layout parameters per split: test houses have room counts that train/val never have.
SPLIT_PARAMS = {
    "train": {"room_counts": (2, 3, 4, 5, 6), "room_area_m2": (12.0, 20.0), "door_cells": (3, 4)},
    "val": {"room_counts": (2, 3, 4, 5, 6), "room_area_m2": (12.0, 20.0), "door_cells": (3, 4)},
    "test": {"room_counts": (7, 8), "room_area_m2": (11.0, 16.0), "door_cells": (3, 4)},
}
MIN_INNER = 10  # smallest room interior side in cells (2.5 m)

FLOOR_COLORS = np.array([(150, 110, 70), (190, 160, 120), (120, 120, 125), (170, 60, 50), (60, 90, 140),
                         (200, 200, 190), (100, 130, 80), (90, 70, 60)], np.float32)
WALL_COLORS = np.array([(230, 225, 210), (200, 215, 230), (235, 205, 170), (190, 225, 190), (225, 190, 190),
                        (210, 200, 235), (245, 240, 225), (170, 190, 200)], np.float32)
CEIL_COLORS = np.array([(245, 245, 240), (230, 230, 235), (240, 235, 220), (220, 225, 230)], np.float32)
FLOOR_PATTERNS = 3  # 0 tiles, 1 planks, 2 carpet


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
    split = split_of(seed)
    p = SPLIT_PARAMS[split]
    rng = np.random.default_rng([seed, 7919])
    n_rooms = int(rng.choice(p["room_counts"]))
    door = int(rng.integers(p["door_cells"][0], p["door_cells"][1] + 1))
    area = n_rooms * rng.uniform(*p["room_area_m2"])
    aspect = rng.uniform(0.75, 1.33)
    w = int(np.clip(round(np.sqrt(area * aspect) / CELL), 2 * MIN_INNER + 3, MAX_GRID - 1)) + 1
    h = int(np.clip(round(area / (w * CELL) / CELL), 2 * MIN_INNER + 3, MAX_GRID - 1)) + 1
    rooms = _split_rooms(rng, h, w, n_rooms)
    grid = np.full((h, w), FREE, np.uint8)
    room = np.full((h, w), -1, np.int8)
    for k, (r0, c0, r1, c1) in enumerate(rooms):
        grid[r0, c0:c1 + 1] = grid[r1, c0:c1 + 1] = WALL
        grid[r0:r1 + 1, c0] = grid[r0:r1 + 1, c1] = WALL
        room[r0 + 1:r1, c0 + 1:c1] = k
    _carve_doors(rng, grid, room, rooms, door)
    objects = _place_objects(rng, grid, rooms)
    params = {"rooms": len(rooms), "door_cells": door, "size_cells": [h, w]}
    return House(seed, split, params, grid, room, _room_styles(rng, len(rooms)), objects)


def _split_rooms(rng: np.random.Generator, h: int, w: int, n: int) -> list[tuple[int, int, int, int]]:
    """Binary space partition of the house rectangle into ``n`` rooms (wall lines shared)."""
    rooms = [(0, 0, h - 1, w - 1)]
    while len(rooms) < n:
        order = sorted(range(len(rooms)), key=lambda i: -(rooms[i][2] - rooms[i][0]) * (rooms[i][3] - rooms[i][1]))
        for i in order:
            r0, c0, r1, c1 = rooms[i]
            rows, cols = r1 - r0, c1 - c0
            axis = 0 if rows > cols or (rows == cols and rng.random() < 0.5) else 1
            for ax in (axis, 1 - axis):
                lo, hi = (r0, r1) if ax == 0 else (c0, c1)
                if hi - lo >= 2 * (MIN_INNER + 1):
                    s = int(rng.integers(lo + MIN_INNER + 1, hi - MIN_INNER))
                    a, b = ((r0, c0, s, c1), (s, c0, r1, c1)) if ax == 0 else ((r0, c0, r1, s), (r0, s, r1, c1))
                    rooms[i:i + 1] = [a, b]
                    break
            else:
                continue
            break
        else:
            break  # no room can be split further: the house holds fewer rooms
    return rooms


def _carve_doors(rng: np.random.Generator, grid: np.ndarray, room: np.ndarray,
                 rooms: list[tuple[int, int, int, int]], door: int) -> None:
    """Connect rooms by a random spanning tree of doors plus a few extra doors (loops)."""
    edges = []
    for i, a in enumerate(rooms):
        for j in range(i + 1, len(rooms)):
            seg = _shared_wall(a, rooms[j], door)
            if seg is not None:
                edges.append((rng.random(), i, j, seg))
    edges.sort(key=lambda e: e[0])
    parent = list(range(len(rooms)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for _, i, j, (axis, line, lo, hi) in edges:
        joined = find(i) != find(j)
        if not joined and rng.random() > 0.3:
            continue
        parent[find(i)] = find(j)
        start = int(rng.integers(lo, hi - door + 1))
        if axis == 0:
            grid[line, start:start + door] = DOOR
            room[line, start:start + door] = i
        else:
            grid[start:start + door, line] = DOOR
            room[start:start + door, line] = i


def _shared_wall(a, b, door: int):
    """(axis, line, lo, hi) of the wall segment two rooms share, with room for a door, else None."""
    for axis, (p0, p1, q0, q1) in ((0, (a[0], a[2], b[0], b[2])), (1, (a[1], a[3], b[1], b[3]))):
        line = p1 if p1 == q0 else (p0 if p0 == q1 else None)
        if line is None:
            continue
        lo_a, hi_a = (a[1], a[3]) if axis == 0 else (a[0], a[2])
        lo_b, hi_b = (b[1], b[3]) if axis == 0 else (b[0], b[2])
        lo, hi = max(lo_a, lo_b) + 2, min(hi_a, hi_b) - 1  # keep door frames clear of corners
        if hi - lo >= door:
            return axis, line, lo, hi
    return None


def _place_objects(rng: np.random.Generator, grid: np.ndarray, rooms) -> np.ndarray:
    """Objects against walls, footprints apart and clear of doors; several instances of some categories.

    Centres lie two cells from a room's wall so that the 3x3 footprint touches the wall; positions that
    would leave a one-cell pocket next to a corner are skipped.
    """
    n_cat = int(rng.integers(8, 15))
    house_cats = rng.choice(categories.NUM_CATEGORIES, n_cat, replace=False)
    ok = np.ones(grid.shape, bool)
    for r, c in np.argwhere(grid == DOOR):
        ok[max(r - 4, 0):r + 5, max(c - 4, 0):c + 5] = False
    placed: list[tuple[int, int, int]] = []
    for r0, c0, r1, c1 in rooms:
        cols = [c for c in range(c0 + 2, c1 - 1) if c not in (c0 + 3, c1 - 3)]
        rows = [r for r in range(r0 + 4, r1 - 3)]
        ring = [(r0 + 2, c) for c in cols] + [(r1 - 2, c) for c in cols]
        ring += [(r, c0 + 2) for r in rows] + [(r, c1 - 2) for r in rows]
        area = (r1 - r0 - 1) * (c1 - c0 - 1) * CELL * CELL
        want = int(np.clip(round(area / 6.0 + rng.uniform(-0.5, 1.5)), 2, 6))
        got = 0
        for i in rng.permutation(len(ring)):
            r, c = ring[i]
            if not ok[r, c]:
                continue
            placed.append((r, c, int(house_cats[int(rng.integers(n_cat))])))
            ok[max(r - 5, 0):r + 6, max(c - 5, 0):c + 6] = False
            got += 1
            if got == want or len(placed) == MAX_OBJECTS:
                break
    for r, c, _ in placed:
        grid[r - 1:r + 2, c - 1:c + 2] = OBJECT
    return np.array([((c + 0.5) * CELL, (r + 0.5) * CELL, k) for r, c, k in placed], np.float64).reshape(-1, 3)


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
