"""What a camera at the agent's pose can know, read from the simulator: targets for pretraining encoders.

Per object category ``c`` four binary labels: ``stop[c]`` (stopping now would succeed if ``c`` were the
goal: the task's own success test, ``task.sees_goal``) and ``left[c]``, ``centre[c]``, ``right[c]`` (an
instance of ``c`` within ``SEE_DIST`` projects into that third of the image with no wall in between); then
one label ``free`` (a forward step would move). A frozen encoder pretrained on them (``embodied pretrain``)
gives the policy features that say what is in view and where, so RL only has to learn what to do with it.
"""
from __future__ import annotations

import math

from numba import njit

from envs.house.categories import NUM_CATEGORIES
from envs.house.geometry import COS, SIN, STEP, in_view, line_of_sight, passable
from envs.house.task import sees_goal

SEE_DIST = 8.0  # metres: farther instances count as not visible (a few pixels at 32 px)
GROUPS = ("stop", "left", "centre", "right")
NUM_LABELS = len(GROUPS) * NUM_CATEGORIES + 1


def label_names() -> list[str]:
    """Names of the label columns, ``<group>/<category>`` then ``free``."""
    from envs.house.categories import NAMES

    return [f"{g}/{name}" for g in GROUPS for name in NAMES] + ["free"]


@njit(cache=True)
def fill(grid, inst, cats, objs, m, heights, x, y, k, pitch, out):
    """The labels of one env at pose (x, y, k, pitch) into ``out`` (NUM_LABELS,); ``inst``/``cats``: the house's
    per-category instance fields and category ids (``env.episode_tables``)."""
    out[:] = 0.0
    c_n = heights.shape[0]
    for q in range(cats.shape[0]):
        c = cats[q]
        if sees_goal(grid, inst[q], objs, m, c, heights, x, y, k, pitch):
            out[c] = 1.0
    for i in range(m):
        ox, oy, c = objs[i, 0], objs[i, 1], int(objs[i, 2])
        rx, ry = ox - x, oy - y
        if math.hypot(rx, ry) > SEE_DIST or not in_view(x, y, k, pitch, ox, oy, 0.5 * heights[c]):
            continue
        if not line_of_sight(grid, x, y, ox, oy):
            continue
        lateral = (-rx * SIN[k] + ry * COS[k]) / (rx * COS[k] + ry * SIN[k])  # in (-1, 1): image column
        third = 0 if lateral < -1.0 / 3.0 else (1 if lateral <= 1.0 / 3.0 else 2)
        out[(1 + third) * c_n + c] = 1.0
    out[4 * c_n] = 1.0 if passable(grid, x + STEP * COS[k], y + STEP * SIN[k]) else 0.0

