"""The house grid's units, cell codes, size limits and palettes: what the layout, the Numba generator
(procgen.py) and the renderers share. A leaf module: it imports nothing of the house."""
from __future__ import annotations

import numpy as np

CELL = 0.25  # metres per grid cell
MAX_GRID = 64  # largest house side in cells (16 m)
MAX_ROOMS = 16
MAX_OBJECTS = 48
FREE, WALL, DOOR, OBJECT = 0, 1, 2, 3

MIN_INNER = 10  # smallest room interior side in cells (2.5 m)

FLOOR_COLORS = np.array([(150, 110, 70), (190, 160, 120), (120, 120, 125), (170, 60, 50), (60, 90, 140),
                         (200, 200, 190), (100, 130, 80), (90, 70, 60)], np.float32)
WALL_COLORS = np.array([(230, 225, 210), (200, 215, 230), (235, 205, 170), (190, 225, 190), (225, 190, 190),
                        (210, 200, 235), (245, 240, 225), (170, 190, 200)], np.float32)
CEIL_COLORS = np.array([(245, 245, 240), (230, 230, 235), (240, 235, 220), (220, 225, 230)], np.float32)
FLOOR_PATTERNS = 3  # 0 tiles, 1 planks, 2 carpet
