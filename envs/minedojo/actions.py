"""MineDojo's MultiDiscrete action (its ``ARNNWrapper``) built from named intents, and the RL action set.

Layout of the 8-vector (MineDojo docs, "Action space"): 0 forward/back, 1 left/right, 2 jump/sneak/sprint,
3 camera pitch bin, 4 camera yaw bin (15 degree bins, 12 = no turn), 5 functional action, 6 craft/smelt
item index into ``ALL_CRAFT_SMELT_ITEMS``, 7 inventory slot for equip/place/destroy.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

CAMERA_DEGREES = 15
CAMERA_BINS = 360 // CAMERA_DEGREES + 1  # 25
CAMERA_NOOP = CAMERA_BINS // 2  # 12
FUNCTIONS = ("noop", "use", "drop", "attack", "craft", "equip", "place", "destroy")
N_SLOTS = 36


def item_name(name: str) -> str:
    """MineDojo writes inventory names with spaces ("crafting table"), actions and voxels with underscores."""
    return str(name).strip().replace(" ", "_")


@dataclass(frozen=True)
class CraftBook:
    """What can be crafted or smelted, where, from what: MineDojo's craft argument and its recipes."""

    items: tuple[str, ...]  # the craft argument's values, in MineDojo's order
    table: frozenset[str] = frozenset()  # needs a crafting table nearby
    smelt: frozenset[str] = frozenset()  # needs a furnace nearby
    recipes: Mapping[str, Sequence[Mapping[str, int]]] = field(default_factory=dict)  # item -> ingredient sets

    @classmethod
    def from_minedojo(cls) -> "CraftBook":
        from minedojo.sim.mc_meta import mc

        def ingredients(recipe: Mapping) -> dict[str, int]:
            return {item_name(k): int(v) for k, v in recipe["ingredients"].items()}

        return cls(items=tuple(mc.ALL_CRAFT_SMELT_ITEMS),
                   table=frozenset(mc.ALL_TABLE_CRAFT_ONLY_ITEMS_NN_ACTIONS),
                   smelt=frozenset(mc.ALL_SMELT_ITEMS_NN_ACTIONS),
                   recipes={k: [ingredients(r) for r in mc.CRAFTING_RECIPES_BY_OUTPUT.get(k, [])
                                    + mc.SMELTING_RECIPES_BY_OUTPUT.get(k, [])]
                            for k in mc.ALL_CRAFT_SMELT_ITEMS})

    def index(self, item: str) -> int:
        item = item_name(item)
        if item not in self.items:
            raise ValueError(f"{item!r} cannot be crafted or smelted in MineDojo")
        return self.items.index(item)

    def station(self, item: str) -> str | None:
        """The block that must be nearby to make ``item``: "table", "furnace" or None (hand crafting)."""
        item = item_name(item)
        return "furnace" if item in self.smelt else "table" if item in self.table else None

    def missing(self, item: str, inventory: Mapping[str, int]) -> str:
        """Empty if some recipe of ``item`` is covered by ``inventory`` (or none is known), else the
        closest recipe's shortfall, e.g. "need 1 more planks and 2 more stick"."""
        lacks = []
        for recipe in self.recipes.get(item_name(item), ()):
            lack = {k: n - inventory.get(k, 0) for k, n in recipe.items() if inventory.get(k, 0) < n}
            if not lack:
                return ""
            lacks.append(lack)
        if not lacks:
            return ""
        best = min(lacks, key=lambda lack: (sum(lack.values()), sorted(lack)))
        return "need " + " and ".join(f"{n} more {k}" for k, n in sorted(best.items()))


def noop() -> np.ndarray:
    return np.array([0, 0, 0, CAMERA_NOOP, CAMERA_NOOP, 0, 0, 0], np.int64)


def camera_bin(degrees: float) -> int:
    """A relative camera turn in degrees as the nearest bin (clipped to +-180)."""
    return int(np.clip(round(float(degrees) / CAMERA_DEGREES), -CAMERA_NOOP, CAMERA_NOOP)) + CAMERA_NOOP


def move(forward: int = 0, strafe: int = 0, jump: bool = False, pitch: float = 0.0, yaw: float = 0.0) -> np.ndarray:
    """``forward`` +1/-1, ``strafe`` -1 left / +1 right, optional jump and camera turn in degrees."""
    a = noop()
    a[0] = {0: 0, 1: 1, -1: 2}[int(forward)]
    a[1] = {0: 0, -1: 1, 1: 2}[int(strafe)]
    a[2] = 1 if jump else 0
    a[3], a[4] = camera_bin(pitch), camera_bin(yaw)
    return a


def function(name: str, *, craft: int = 0, slot: int = 0) -> np.ndarray:
    if name not in FUNCTIONS:
        raise ValueError(f"unknown functional action {name!r}; allowed: {list(FUNCTIONS)}")
    if not 0 <= slot < N_SLOTS:
        raise ValueError(f"inventory slot {slot} outside 0..{N_SLOTS - 1}")
    a = noop()
    a[5], a[6], a[7] = FUNCTIONS.index(name), int(craft), int(slot)
    return a


def craft(item: str, book: CraftBook) -> np.ndarray:
    return function("craft", craft=book.index(item))


def slot_of(item: str, inventory_names: Sequence[str]) -> int | None:
    """First inventory slot holding ``item`` (names compared with spaces and underscores alike)."""
    want = item_name(item)
    for i, name in enumerate(inventory_names):
        if item_name(name) == want:
            return i
    return None


def use_item(verb: str, item: str, inventory_names: Sequence[str]) -> np.ndarray | None:
    """``equip`` / ``place`` / ``destroy`` the stack of ``item``; None when the inventory has none."""
    slot = slot_of(item, inventory_names)
    return None if slot is None else function(verb, slot=slot)


# The discrete action set for RL: enough to climb the tech tree to a stone pickaxe.
RL_ACTIONS = (
    "noop", "forward", "back", "strafe_left", "strafe_right", "jump_forward", "turn_left", "turn_right",
    "look_up", "look_down", "attack", "use",
    "craft:planks", "craft:stick", "craft:crafting_table", "craft:wooden_pickaxe", "craft:stone_pickaxe",
    "craft:furnace", "place:crafting_table", "place:furnace", "equip:wooden_pickaxe", "equip:stone_pickaxe",
)
_MOVES = {
    "noop": {}, "forward": {"forward": 1}, "back": {"forward": -1}, "strafe_left": {"strafe": -1},
    "strafe_right": {"strafe": 1}, "jump_forward": {"forward": 1, "jump": True},
    "turn_left": {"yaw": -CAMERA_DEGREES}, "turn_right": {"yaw": CAMERA_DEGREES},
    "look_up": {"pitch": -CAMERA_DEGREES}, "look_down": {"pitch": CAMERA_DEGREES},
}


def allowed(action: np.ndarray, masks: Mapping[str, np.ndarray] | None) -> bool:
    """Whether MineDojo's action masks (the observation's ``masks``: ``action_type`` (8,), ``craft_smelt``
    (244,), ``equip`` / ``place`` / ``destroy`` (36,)) let this action's function act."""
    if masks is None:
        return True
    fn = int(action[5])
    if not bool(np.asarray(masks["action_type"]).reshape(-1)[fn]):
        return False
    name = FUNCTIONS[fn]
    if name == "craft":
        return bool(np.asarray(masks["craft_smelt"]).reshape(-1)[int(action[6])])
    if name in ("equip", "place", "destroy"):
        return bool(np.asarray(masks[name]).reshape(-1)[int(action[7])])
    return True


def rl_action(index: int, inventory_names: Sequence[str], book: CraftBook,
              masks: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """Discrete RL action -> MineDojo vector; place/equip of an item not held, and anything MineDojo's
    ``masks`` rule out (a craft without its ingredients, a place where nothing can go), become a no-op."""
    i = int(index)
    if not 0 <= i < len(RL_ACTIONS):
        raise ValueError(f"action {index!r} out of range 0..{len(RL_ACTIONS) - 1}")
    name = RL_ACTIONS[i]
    if name in _MOVES:
        return move(**_MOVES[name])
    if name in ("attack", "use"):
        action: np.ndarray | None = function(name)
    else:
        verb, item = name.split(":")
        action = craft(item, book) if verb == "craft" else use_item(verb, item, inventory_names)
    return action if action is not None and allowed(action, masks) else noop()
