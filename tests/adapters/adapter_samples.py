"""Sample observation dicts shaped exactly as the simulators return them (built here: no simulator runs)."""
from __future__ import annotations

import numpy as np

# Real positions in MineDojo's ALL_CRAFT_SMELT_ITEMS (244 entries) of the items the tests craft.
CRAFT_INDEX = {"crafting_table": 7, "planks": 29, "stick": 41, "furnace": 119, "stone_pickaxe": 207,
               "wooden_pickaxe": 219}
RECIPES = {"planks": [{"log": 1}, {"log2": 1}], "stick": [{"planks": 2}], "crafting_table": [{"planks": 4}],
           "wooden_pickaxe": [{"planks": 3, "stick": 2}], "stone_pickaxe": [{"cobblestone": 3, "stick": 2}],
           "furnace": [{"cobblestone": 8}]}


def minedojo_obs(inventory=(), mainhand="air", blocks=None, yaw=0.0, pitch=0.0, pos=(10.5, 64.0, -3.5),
                 table=False, furnace=False, life=20.0, size=(3, 3, 3), height=16, width=24, seed=0):
    """A MineDojo observation: ``inventory`` [(name with spaces, qty)], ``blocks`` {(dx, dy, dz): name}."""
    rng = np.random.default_rng(seed)
    names = np.array(["air"] * 36, dtype=object)
    qty = np.zeros(36, np.float32)
    for slot, (name, q) in enumerate(inventory):
        names[slot], qty[slot] = name, q
    equipment = np.array([mainhand, "air", "air", "air", "air", "air"], dtype=object)
    voxels = np.full(size, "air", dtype=object)
    centre = (np.array(size) - 1) // 2
    voxels[centre[0], 0, centre[2]] = "grass"  # the block under the feet
    for (dx, dy, dz), name in (blocks or {}).items():
        voxels[centre[0] + dx, centre[1] + dy, centre[2] + dz] = name
    one = lambda v: np.array([v], np.float32)  # noqa: E731 - MineDojo's (1,)-shaped stats
    return {
        "rgb": rng.integers(0, 256, (3, height, width), dtype=np.uint8),
        "inventory": {"name": names, "quantity": qty},
        "equipment": {"name": equipment, "quantity": np.zeros(6, np.float32)},
        "life_stats": {"life": one(life), "food": one(20.0), "saturation": one(5.0), "oxygen": one(300.0),
                       "armor": one(0.0), "xp": one(0.0), "is_sleeping": False},
        "location_stats": {"pos": np.array(pos, np.float32), "yaw": one(yaw), "pitch": one(pitch),
                           "biome_id": np.array(4), "light_level": one(15.0)},
        "voxels": {"block_name": voxels, "is_collidable": voxels != "air"},
        "nearby_tools": {"table": np.array(table), "furnace": np.array(furnace)},
        # MineDojo's ARMasksWrapper and DeltaInventoryWrapper add these (here: every action allowed, no change).
        "masks": {"action_type": np.ones(8, bool), "action_arg": np.ones((8, 1), bool),
                  "craft_smelt": np.ones(244, bool), "equip": np.ones(36, bool), "place": np.ones(36, bool),
                  "destroy": np.ones(36, bool)},
        "delta_inv": {f"{kind}_{what}_by_{how}": (np.full(n, "air", dtype=object) if what == "name"
                                                  else np.zeros(n, np.float32))
                      for kind, n in (("inc", 1), ("dec", 4)) for what in ("name", "quantity")
                      for how in ("craft", "other")},
    }


def habitat_obs(resolution=32, category=2, gps=(1.25, -0.5), seed=0, rgba=False):
    """A habitat-lab ObjectNav observation: RGB (habitat-lab keeps 3 of habitat-sim's RGBA channels,
    habitat_simulator.py:111,135@0.3.320260507; ``rgba`` gives the raw sensor's 4), depth in metres."""
    rng = np.random.default_rng(seed)
    depth = rng.uniform(0.0, 12.0, (resolution, resolution, 1)).astype(np.float32)
    depth[0, 0, 0] = np.nan  # missing returns happen at mesh holes
    return {
        "rgb": rng.integers(0, 256, (resolution, resolution, 4 if rgba else 3), dtype=np.uint8),
        "depth": depth,
        "semantic": rng.integers(0, 50, (resolution, resolution, 1), dtype=np.int32),
        "objectgoal": np.array([category], np.int64),
        "compass": np.array([0.3], np.float32),
        "gps": np.array(gps, np.float32),
    }
