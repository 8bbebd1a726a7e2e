"""Crafter's state as text for a planner (and for embedding into the experience memory)."""
from __future__ import annotations

from envs.crafter.world import CrafterWorld

VITALS = ("health", "food", "drink", "energy")
_IGNORED = {"grass", None}  # everywhere; naming them adds nothing


def _direction(dx: int, dy: int) -> str:
    parts = []
    if dy:
        parts.append(f"{abs(dy)} {'down' if dy > 0 else 'up'}")
    if dx:
        parts.append(f"{abs(dx)} {'right' if dx > 0 else 'left'}")
    return " ".join(parts) or "here"


def nearby(world: CrafterWorld) -> dict[str, tuple[int, int]]:
    """Nearest visible cell (as offset from the player) of every material and creature in view."""
    (x, y), out = world.pos, {}
    for (cx, cy), material, creature in world.visible_cells():
        for name in (material, creature):
            if name in _IGNORED or (cx, cy) == (x, y):
                continue
            off = (cx - x, cy - y)
            if name not in out or abs(off[0]) + abs(off[1]) < abs(out[name][0]) + abs(out[name][1]):
                out[name] = off
    return out


def describe(world: CrafterWorld) -> str:
    """Vitals, inventory, what is nearby with direction and distance, what the player faces, daylight."""
    inv = world.inventory
    vitals = ", ".join(f"{k} {inv[k]}/9" for k in VITALS)
    items = ", ".join(f"{k} {v}" for k, v in inv.items() if k not in VITALS and v > 0) or "nothing"
    near = sorted(nearby(world).items(), key=lambda kv: abs(kv[1][0]) + abs(kv[1][1]))
    seen = "; ".join(f"{name} {_direction(*off)}" for name, off in near) or "only grass"
    fx, fy = world.pos[0] + world.facing[0], world.pos[1] + world.facing[1]
    front = world.creature((fx, fy)) or world.material((fx, fy)) or "the edge of the world"
    light = world.daylight
    lines = [f"vitals: {vitals}", f"inventory: {items}", f"nearby: {seen}", f"facing: {front}",
             f"daylight: {light:.2f} ({'day' if light > 0.5 else 'night'})"]
    if world.player.sleeping:
        lines.append("status: sleeping")
    return "\n".join(lines)
