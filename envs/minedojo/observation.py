"""MineDojo observation dicts -> what our RL policies and planners read.

A MineDojo observation (``minedojo.make(...).reset()``) holds ``rgb`` (3, H, W) uint8, ``inventory``
(36 slots: ``name`` with spaces, ``quantity``), ``equipment`` (6 slots, mainhand first), ``life_stats``
(``life``, ``food``, ``saturation``, ``oxygen``, ``armor``, each shape (1,)), ``location_stats`` (``pos``
(3,), ``yaw``, ``pitch``, ``biome_id``, ...), ``voxels`` (``block_name`` over a small grid around the
agent, indexed [x, y, z]) and ``nearby_tools`` (``table``, ``furnace``).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import gymnasium
import numpy as np

from envs.minedojo.actions import item_name

# Items whose counts the RL vector carries: the tech tree to a stone pickaxe and a little beyond.
VOCAB = ("log", "planks", "stick", "crafting_table", "wooden_pickaxe", "cobblestone", "stone_pickaxe",
         "furnace", "coal", "iron_ore", "iron_ingot", "iron_pickaxe", "dirt", "sapling")
LIFE = (("life", 20.0), ("food", 20.0), ("saturation", 20.0), ("oxygen", 300.0), ("armor", 20.0))
VECTOR_SIZE = len(LIFE) + 6 + 2 * len(VOCAB) + 2  # vitals, location, inventory, mainhand, nearby tools
AIR = ("air", "none", "")


def observation_space(height: int, width: int) -> dict[str, gymnasium.Space]:
    return {
        "rgb": gymnasium.spaces.Box(0, 255, (height, width, 3), np.uint8),
        "vector": gymnasium.spaces.Box(-np.inf, np.inf, (VECTOR_SIZE,), np.float32),
    }


def inventory_counts(obs: Mapping) -> dict[str, int]:
    """Item name (underscored) -> total count over all inventory slots, air left out."""
    inv = obs["inventory"]
    counts: dict[str, int] = {}
    for name, quantity in zip(inv["name"], np.asarray(inv["quantity"]).reshape(-1), strict=True):
        name = item_name(name)
        if name not in AIR and quantity > 0:
            counts[name] = counts.get(name, 0) + int(quantity)
    return counts


def mainhand(obs: Mapping) -> str:
    name = item_name(np.asarray(obs["equipment"]["name"]).reshape(-1)[0])
    return "nothing" if name in AIR else name


def _scalar(group: Mapping, key: str) -> float:
    return float(np.asarray(group[key]).reshape(-1)[0])


def vitals(obs: Mapping) -> dict[str, float]:
    return {k: _scalar(obs["life_stats"], k) for k, _ in LIFE if k in obs["life_stats"]}


def facing_vectors(yaw_degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """Unit (x, z) vectors pointing ahead and to the right for a Minecraft yaw (0 = south = +z)."""
    yaw = math.radians(yaw_degrees)
    ahead = np.array([-math.sin(yaw), math.cos(yaw)])
    right = np.array([-math.cos(yaw), -math.sin(yaw)])
    return ahead, right


def nearby_blocks(obs: Mapping) -> dict[str, tuple[int, int, int]]:
    """Nearest voxel of each block type as (ahead, right, up) offsets from the agent's feet.

    The voxel grid is centred on the agent (MineDojo tasks use x, y, z in [-1, 1]); its axes are world
    x, y, z, turned here into the agent's frame with the yaw, rounded to whole blocks.
    """
    names = np.asarray(obs["voxels"]["block_name"])
    centre = (np.array(names.shape) - 1) // 2
    ahead, right = facing_vectors(_scalar(obs["location_stats"], "yaw"))
    out: dict[str, tuple[int, int, int]] = {}
    for index in np.ndindex(names.shape):
        name = item_name(names[index])
        if name in AIR:
            continue
        dx, dy, dz = (np.array(index) - centre).tolist()
        offset = (int(round(dx * ahead[0] + dz * ahead[1])), int(round(dx * right[0] + dz * right[1])), int(dy))
        if name not in out or sum(map(abs, offset)) < sum(map(abs, out[name])):
            out[name] = offset
    return out


def rgb(obs: Mapping) -> np.ndarray:
    """(3, H, W) -> (H, W, 3) uint8, contiguous."""
    image = np.asarray(obs["rgb"])
    if image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"MineDojo rgb must be (3, H, W), got {image.shape}")
    return np.ascontiguousarray(image.transpose(1, 2, 0), dtype=np.uint8)


def vector(obs: Mapping, origin: Sequence[float]) -> np.ndarray:
    """Compact state for RL: vitals, position since the episode start and heading, inventory, tools near."""
    life = [_scalar(obs["life_stats"], k) / scale for k, scale in LIFE]
    loc = obs["location_stats"]
    pos = (np.asarray(loc["pos"], np.float64).reshape(3) - np.asarray(origin, np.float64)) / 32.0
    yaw, pitch = math.radians(_scalar(loc, "yaw")), _scalar(loc, "pitch") / 90.0
    counts = inventory_counts(obs)
    inventory = [min(counts.get(k, 0), 64) / 64.0 for k in VOCAB]
    held = mainhand(obs)
    hand = [float(held == k) for k in VOCAB]
    tools = [float(np.asarray(obs["nearby_tools"][k]).reshape(-1)[0]) for k in ("table", "furnace")]
    return np.array(life + pos.tolist() + [math.sin(yaw), math.cos(yaw), pitch] + inventory + hand + tools,
                    np.float32)


def convert(obs: Mapping, origin: Sequence[float]) -> dict[str, np.ndarray]:
    """A MineDojo observation as our RL observation (``rgb``, ``vector``)."""
    return {"rgb": rgb(obs), "vector": vector(obs, origin)}
