"""One Crafter world for the planner: named actions, inventory, achievements and the map the player has seen.

The RL env (``envs/crafter/batched.py``) renders images; the planner never looks at pixels, so this
wrapper can skip rendering and the semantic view, which makes a step ~2.5x cheaper.
"""
from __future__ import annotations

import collections
import copy

import numpy as np

VIEW_RADIUS = (4, 3)  # Crafter's local view is 9 x 7 cells around the player (9 x 9 minus 2 item rows)
CREATURES = ("cow", "zombie", "skeleton", "plant", "arrow")
WALKABLE = ("grass", "sand", "path")  # lava is walkable for the player, but fatal: never planned through


class _OrderedSet(dict):
    """Insertion-ordered set: what Crafter's world keeps per chunk."""

    def add(self, item) -> None:
        self[item] = None

    def remove(self, item) -> None:
        del self[item]


def make_deterministic(env) -> None:
    """Make a crafter.Env replay bit-identically from its seed (call before ``reset``).

    Crafter keeps the objects of each chunk in a ``set`` hashed by memory address, and its spawn/despawn
    balancing picks a creature by index into that set, so two envs with the same seed drift apart.
    An insertion-ordered container removes that dependence without changing the game's rules.
    """
    import collections

    world = env._world

    class _World(type(world)):
        def reset(self, seed=None):
            super().reset(seed)
            self._chunks = collections.defaultdict(_OrderedSet)

    world.__class__ = _World


def _crafter_env_class(render: bool):
    import crafter

    class _Env(crafter.Env):
        """crafter.Env whose observation rendering and semantic map can be turned off."""

        def _obs(self):
            return self.render() if render else None

    return _Env


_PRISTINE: collections.OrderedDict = collections.OrderedDict()  # (seed, length, size, render) -> fresh env
_CACHE_SIZE = 128


def _fresh_env(seed: int, length: int, size: int, render: bool):
    """A just-reset crafter.Env; generating a world costs ~0.2-0.8 s, copying a cached one ~10 ms."""
    key = (seed, length, size, render)
    if key not in _PRISTINE:
        env = _crafter_env_class(render)(area=(64, 64), size=(size, size), length=length, seed=seed, reward=True)
        if not render:
            env._sem_view = lambda: None  # the planner reads the world maps directly
        make_deterministic(env)
        env.reset()
        _PRISTINE[key] = env
        if len(_PRISTINE) > _CACHE_SIZE:
            _PRISTINE.popitem(last=False)
    _PRISTINE.move_to_end(key)
    pristine = _PRISTINE[key]
    return copy.deepcopy(pristine, {id(pristine._textures): pristine._textures})  # textures are read-only


class CrafterWorld:
    """A single seeded Crafter world with the view the planner's skills and text state need."""

    def __init__(self, seed: int, length: int = 10000, size: int = 64, render: bool = False):
        self.seed = int(seed)
        self._env = _fresh_env(self.seed, length, size, render)
        self.image = self._env.render() if render else None
        self.steps = 0
        self.done = False
        self.reward = 0.0
        self.explored = np.zeros(self._env._world.area, bool)
        self._reveal()

    # --- the world as the planner sees it -------------------------------------------------------
    @property
    def world(self):
        return self._env._world

    @property
    def player(self):
        return self._env._player

    @property
    def pos(self) -> tuple[int, int]:
        return int(self.player.pos[0]), int(self.player.pos[1])

    @property
    def facing(self) -> tuple[int, int]:
        return int(self.player.facing[0]), int(self.player.facing[1])

    @property
    def inventory(self) -> dict[str, int]:
        return dict(self.player.inventory)

    @property
    def achievements(self) -> dict[str, int]:
        return dict(self.player.achievements)

    @property
    def daylight(self) -> float:
        return float(self.world.daylight)

    @property
    def action_names(self) -> list[str]:
        return list(self._env.action_names)

    def material(self, pos) -> str | None:
        return self.world[pos][0]

    def creature(self, pos) -> str | None:
        obj = self.world[pos][1]
        return None if obj is None else type(obj).__name__.lower()

    def is_free(self, pos) -> bool:
        """Whether the player may safely step on ``pos`` now (walkable, no creature, not lava)."""
        material, obj = self.world[pos]
        return obj is None and material in WALKABLE

    def step(self, action: str) -> float:
        """Take one named low-level action; returns its reward. Raises once the episode is over."""
        if self.done:
            raise RuntimeError("the Crafter episode is over (player dead or step cap reached)")
        image, reward, done, _ = self._env.step(self._env.action_names.index(action))
        self.image = image
        self.steps += 1
        self.reward += float(reward)
        self.done = bool(done)
        self._reveal()
        return float(reward)

    def _reveal(self) -> None:
        (x, y), (rx, ry) = self.pos, VIEW_RADIUS
        self.explored[max(0, x - rx): x + rx + 1, max(0, y - ry): y + ry + 1] = True

    def visible_cells(self):
        """Yield ``(pos, material, creature)`` for every cell in the player's current view."""
        (x, y), (rx, ry) = self.pos, VIEW_RADIUS
        w, h = self.world.area
        for cx in range(max(0, x - rx), min(w, x + rx + 1)):
            for cy in range(max(0, y - ry), min(h, y + ry + 1)):
                yield (cx, cy), self.material((cx, cy)), self.creature((cx, cy))
