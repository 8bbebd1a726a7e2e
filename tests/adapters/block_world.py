"""A stand-in block world that speaks MineDojo's action and observation formats (MultiDiscrete actions in,
observation dicts out): flat ground, breakable logs and stone, crafting by recipe, placing, equipping."""
from __future__ import annotations

import math

import numpy as np

from adapter_samples import minedojo_obs
from envs.minedojo import actions as A
from envs.minedojo.observation import inventory_counts

DROPS = {"log": "log", "stone": "cobblestone"}
HITS = {"log": 3, "stone": 4}  # attack ticks to break


class BlockWorld:
    """Flat ground at y=63 and the given blocks; the agent stands in a cell, turns in 15 degree bins."""

    def __init__(self, book, blocks=(), inventory=(), budget=10_000):
        self.book, self.budget = book, budget
        self.blocks = {(x, 63, z): "grass" for x in range(-40, 41) for z in range(-40, 80)}
        self.blocks.update(dict(blocks))
        self.cell = np.array([0, 64, 0])
        self.yaw = self.pitch = 0.0
        self.slots = [list(item) for item in inventory] + [["air", 0] for _ in range(36 - len(inventory))]
        self.hand = "air"
        self.hits: dict = {}
        self.steps, self.done, self._best = 0, False, {}
        self.reward, self.success = 0.0, False  # no rewards, no task judge: the planner's world reads the inventory
        self.obs = self._observe()

    # what MineDojoWorld offers the executor
    @property
    def inventory(self):
        return inventory_counts(self.obs)

    @property
    def achievements(self):
        return dict(self._best)

    def close(self):
        pass

    def step(self, action):
        a = np.asarray(action)
        assert a.shape == (8,) and a.dtype == np.int64
        self.pitch = float(np.clip(self.pitch + (a[3] - A.CAMERA_NOOP) * A.CAMERA_DEGREES, -90, 90))
        self.yaw = (self.yaw + (a[4] - A.CAMERA_NOOP) * A.CAMERA_DEGREES + 180) % 360 - 180
        ahead = self.cell + self._facing()
        if a[0] == 1 and all(tuple(ahead + [0, dy, 0]) not in self.blocks for dy in (0, 1)):
            self.cell = ahead
        fn = A.FUNCTIONS[a[5]]
        if fn == "attack":
            self._attack()
        elif fn == "craft":
            self._craft(self.book.items[a[6]])
        elif fn == "place" and self.slots[a[7]][1] > 0 and tuple(ahead) not in self.blocks:
            self.blocks[tuple(ahead)] = self.slots[a[7]][0].replace(" ", "_")
            self._take(self.slots[a[7]][0], 1)
        elif fn == "equip" and self.slots[a[7]][1] > 0:
            self.hand = self.slots[a[7]][0]
        self.steps += 1
        self.done = self.steps >= self.budget
        self.obs = self._observe()
        return 0.0

    def _facing(self):
        k = round(self.yaw / 90) % 4  # 0 south (+z), 1 west (-x), 2 north, 3 east
        return np.array([(0, 0, 1), (-1, 0, 0), (0, 0, -1), (1, 0, 0)][k])

    def _attack(self):
        eye = self.cell + np.array([0.5, 1.62, 0.5])
        yaw, pitch = math.radians(self.yaw), math.radians(self.pitch)
        direction = np.array([-math.sin(yaw) * math.cos(pitch), -math.sin(pitch), math.cos(yaw) * math.cos(pitch)])
        for t in np.arange(0.1, 3.0, 0.05):
            cell = tuple(np.floor(eye + t * direction).astype(int))
            if cell in self.blocks:
                name = self.blocks[cell]
                self.hits[cell] = self.hits.get(cell, 0) + 1
                if self.hits[cell] >= HITS.get(name, 10**9):
                    del self.blocks[cell]
                    if name != "stone" or "pickaxe" in self.hand:
                        self._give(DROPS[name], 1)
                return

    def _craft(self, item):
        station = self.book.station(item)
        if station and not self._near("crafting_table"):
            return
        inv = self.inventory
        for recipe in self.book.recipes.get(item, ()):
            if all(inv.get(k, 0) >= n for k, n in recipe.items()):
                for k, n in recipe.items():
                    self._take(k, n)
                self._give(item, 4 if item in ("planks", "stick") else 1)
                return

    def _near(self, name):
        return any(self.blocks.get(tuple(self.cell + [dx, dy, dz])) == name
                   for dx in (-1, 0, 1) for dy in (-1, 0, 1) for dz in (-1, 0, 1))

    def _give(self, item, n):
        name = item.replace("_", " ")
        slot = next((s for s in self.slots if s[0] == name), None) or next(s for s in self.slots if s[1] == 0)
        slot[0], slot[1] = name, slot[1] + n

    def _take(self, item, n):
        name = item.replace("_", " ")
        slot = next(s for s in self.slots if s[0] == name and s[1] >= n)
        slot[1] -= n
        if slot[1] == 0:
            slot[0] = "air"
        if self.hand == name and slot[1] == 0:
            self.hand = "air"

    def _observe(self):
        near = {(dx, dy, dz): self.blocks[c] for dx in (-1, 0, 1) for dy in (-1, 0, 1) for dz in (-1, 0, 1)
                if (c := tuple(self.cell + [dx, dy, dz])) in self.blocks}
        obs = minedojo_obs(inventory=[tuple(s) for s in self.slots if s[1] > 0], mainhand=self.hand,
                           blocks=near, yaw=self.yaw, pitch=self.pitch,
                           pos=tuple(self.cell + [0.5, 0, 0.5]), table=self._near("crafting_table"))
        for k, v in inventory_counts(obs).items():
            self._best[k] = max(v, self._best.get(k, 0))
        return obs
