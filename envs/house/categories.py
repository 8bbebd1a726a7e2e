"""The object categories of the house simulator: name, silhouette, colours and size.

Every category has its own silhouette (drawn by ``render.shade_sprite``) and its own primary colour, so
that a camera can tell any two apart. The tables are plain NumPy arrays indexed by category id so that
the Numba renderer can read them.
"""
from __future__ import annotations

import numpy as np

# Silhouette ids understood by the renderer.
BOX, TABLE, CHAIR, SOFA, BED, TOILET, SCREEN, PLANT, LAMP, FRIDGE, SHELF, TUB, SINK, OVEN, WASHER, \
    CABINET, CLOCK, VASE, BIN, PIANO, BALL = range(21)

# name, silhouette, primary RGB, secondary RGB, width (m), height (m)
_TABLE = [
    ("chair", CHAIR, (205, 40, 40), (90, 20, 20), 0.50, 0.95),
    ("table", TABLE, (140, 90, 40), (90, 55, 25), 0.90, 0.75),
    ("sofa", SOFA, (50, 80, 205), (30, 45, 130), 1.00, 0.85),
    ("bed", BED, (235, 205, 215), (120, 60, 60), 1.00, 0.70),
    ("toilet", TOILET, (245, 245, 245), (170, 170, 180), 0.45, 0.80),
    ("tv", SCREEN, (20, 20, 28), (95, 95, 110), 0.80, 1.20),
    ("plant", PLANT, (40, 165, 50), (150, 80, 40), 0.55, 1.10),
    ("lamp", LAMP, (250, 220, 70), (60, 60, 60), 0.50, 1.60),
    ("refrigerator", FRIDGE, (200, 205, 218), (110, 115, 125), 0.70, 1.80),
    ("bookshelf", SHELF, (95, 55, 25), (215, 170, 60), 0.80, 1.80),
    ("bathtub", TUB, (165, 222, 232), (90, 140, 150), 1.00, 0.55),
    ("sink", SINK, (212, 212, 196), (120, 120, 110), 0.50, 0.90),
    ("oven", OVEN, (225, 110, 30), (40, 30, 20), 0.60, 0.90),
    ("washer", WASHER, (225, 232, 252), (60, 80, 130), 0.60, 0.85),
    ("cabinet", CABINET, (30, 135, 135), (15, 70, 70), 0.70, 1.20),
    ("clock", CLOCK, (115, 40, 115), (240, 240, 200), 0.40, 1.90),
    ("vase", VASE, (225, 60, 165), (120, 30, 90), 0.30, 0.60),
    ("trash_can", BIN, (105, 125, 90), (60, 70, 50), 0.35, 0.50),
    ("piano", PIANO, (32, 32, 32), (242, 242, 242), 1.00, 1.10),
    ("gym_ball", BALL, (180, 232, 40), (110, 150, 20), 0.55, 0.55),
]

NAMES: tuple[str, ...] = tuple(row[0] for row in _TABLE)
NUM_CATEGORIES = len(NAMES)
SHAPE = np.array([row[1] for row in _TABLE], np.int64)
COLOR = np.array([[row[2], row[3]] for row in _TABLE], np.float32)  # (C, 2, 3): primary, secondary
SIZE = np.array([[row[4], row[5]] for row in _TABLE], np.float64)  # (C, 2): width, height


def index(name: str) -> int:
    """Category id of ``name`` (ValueError naming the allowed names otherwise)."""
    if name not in NAMES:
        raise ValueError(f"unknown object category {name!r}; allowed: {list(NAMES)}")
    return NAMES.index(name)
