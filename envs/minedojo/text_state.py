"""MineDojo's state as text for a planner, in the same shape as envs/crafter's text state."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from envs.minedojo.observation import inventory_counts, mainhand, nearby_blocks, vitals

_IGNORED = {"dirt", "grass", "stone", "bedrock"}  # the ground itself; naming it adds little unless asked


def _direction(offset: tuple[int, int, int]) -> str:
    ahead, right, up = offset
    parts = []
    if ahead:
        parts.append(f"{abs(ahead)} {'ahead' if ahead > 0 else 'behind'}")
    if right:
        parts.append(f"{abs(right)} {'right' if right > 0 else 'left'}")
    if up:
        parts.append(f"{abs(up)} {'up' if up > 0 else 'down'}")
    return " ".join(parts) or "here"


def facing_block(obs: Mapping) -> str:
    """The block straight ahead at eye level (or at the feet if eye level is free)."""
    near = nearby_blocks(obs)
    for name, offset in near.items():
        if offset == (1, 0, 1):
            return name
    for name, offset in near.items():
        if offset == (1, 0, 0):
            return name
    return "air"


def describe(source, show_ground: bool = False) -> str:
    """Vitals, inventory, equipment, nearby blocks with direction, what the agent faces, where it is.

    ``source`` is a ``MineDojoWorld`` (as envs/crafter's ``describe(world)``) or a MineDojo observation.
    """
    obs: Mapping = getattr(source, "obs", source)
    life = vitals(obs)
    vit = ", ".join(f"{k} {v:g}/20" for k, v in life.items() if k in ("life", "food", "armor"))
    if "oxygen" in life:
        vit += f", oxygen {life['oxygen']:g}/300"
    items = ", ".join(f"{k} {v}" for k, v in sorted(inventory_counts(obs).items())) or "nothing"
    near = sorted(((k, v) for k, v in nearby_blocks(obs).items() if show_ground or k not in _IGNORED),
                  key=lambda kv: sum(map(abs, kv[1])))
    seen = "; ".join(f"{name} {_direction(off)}" for name, off in near) or "only ground"
    tools = [k for k in ("table", "furnace") if bool(np.asarray(obs["nearby_tools"][k]).reshape(-1)[0])]
    loc = obs["location_stats"]
    x, y, z = (float(v) for v in np.asarray(loc["pos"]).reshape(3))
    lines = [f"vitals: {vit}", f"inventory: {items}", f"equipment: {mainhand(obs)} in hand",
             f"nearby: {seen}", f"crafting stations nearby: {', '.join(tools) or 'none'}",
             f"facing: {facing_block(obs)}", f"position: x {x:.0f}, y {y:.0f}, z {z:.0f}"]
    return "\n".join(lines)
