"""Hand-made tiny houses with answers worked out by hand, and a way to start an exact episode in one."""
from __future__ import annotations

from envs.house import categories, from_spec, layout

# One room, 7 x 20 cells inside (1.75 m x 5 m); a refrigerator (1.8 m tall) centred at row 4, col 18.
ROOM = """
######################
#....................#
#....................#
#....................#
#.................a..#
#....................#
#....................#
#....................#
######################
"""
# Two rooms joined by a door (rows 1-3 of the partition, col 10); a gym ball in the right room.
TWO_ROOMS = """
#####################
#.........D.........#
#.........D.........#
#.........D.........#
#.........#.........#
#.........#.........#
#.........#....b....#
#.........#.........#
#####################
"""


def episode(text: str, objects: dict[str, str], goal: str, cell: tuple[int, int], heading: int = 0,
            max_steps: int = 500, resolution: int = 32, episodes_per_trial: int = 4):
    """A one-env HouseEnv (and its first observation) starting at grid ``cell`` (row, col), ``heading``
    index (0 = +x, each step 30° to the right), towards ``goal``, in the hand-made house ``text``."""
    house = layout.from_ascii(text, objects, seed=1, split="val")
    mapped, letters = layout.to_ascii(house)
    spec = {"house_seed": 1, "split": "val", "start": [(cell[1] + 0.5) * layout.CELL, (cell[0] + 0.5) * layout.CELL],
            "start_heading": heading, "goal_id": categories.index(goal), "episode_index": 0,
            "episodes_per_trial": episodes_per_trial, "max_steps": max_steps, "resolution": resolution,
            "house_map": mapped, "house_objects": letters}
    env = from_spec(spec)
    return env, env.reset()
