"""The planner's skills on Crafter and the executor that turns a skill call into low-level actions.

A plan is a list of :class:`SkillCall` (``collect(tree)``, ``make(wood_pickaxe)``, ...). The executor
reports every call's outcome the way a game would: success, or the first reason it failed ("need 1
wood_pickaxe", "no table nearby", "no iron found within 80 steps"), plus the inventory change and the
steps spent, which is what a planner can learn recipes and prerequisites from.
"""
from __future__ import annotations

import numpy as np

from envs.crafter.navigation import DIRS, move_delta, route_to_face, route_to_frontier
from envs.crafter.world import CREATURES, CrafterWorld
from envs.skills import SkillCall as BaseSkillCall
from envs.skills import SkillError, SkillLanguage, SkillResult, SkillSpec

__all__ = ["LANGUAGE", "SKILLS", "Executor", "SkillCall", "SkillError", "SkillResult", "SkillSpec"]

MATERIALS = ("water", "grass", "stone", "path", "sand", "tree", "lava", "coal", "iron", "diamond", "table",
             "furnace")
COLLECTIBLE = ("tree", "stone", "coal", "iron", "diamond", "water", "grass")
PLACEABLE = ("stone", "table", "furnace", "plant")
MAKEABLE = ("wood_pickaxe", "stone_pickaxe", "iron_pickaxe", "wood_sword", "stone_sword", "iron_sword")
HOSTILE = ("zombie", "skeleton")


SKILLS: dict[str, SkillSpec] = {
    "go_to": SkillSpec((tuple(m for m in MATERIALS if m != "lava") + ("cow", "zombie", "skeleton", "plant"),),
                       "walk to the nearest X and face it"),
    "collect": SkillSpec((COLLECTIBLE,), "walk to the nearest X and take from it"),
    "place": SkillSpec((PLACEABLE,), "place X on a free cell next to the player"),
    "make": SkillSpec((MAKEABLE,), "craft X"),
    "drink": SkillSpec((), "walk to water and drink until full"),
    "eat": SkillSpec((("cow", "plant"),), "walk to X and eat it"),
    "sleep": SkillSpec((), "sleep until rested"),
    "fight": SkillSpec((HOSTILE,), "walk to the nearest X and attack it until it dies"),
    "flee": SkillSpec((), "run away from the nearest zombie or skeleton"),
    "explore": SkillSpec((), "walk into unseen ground for a while"),
    "shelter": SkillSpec((), "dig a two-cell tunnel into stone and seal it behind the player"),
}


class SkillCall(BaseSkillCall):
    """A Crafter skill call (``collect(tree)``), checked against this module's ``SKILLS``."""
    skills = SKILLS


# Calls that take something from the world: tried when a needed item's source is not known yet.
TAKERS = tuple(f"collect({m})" for m in COLLECTIBLE) + ("drink()", "eat(cow)")
LANGUAGE = SkillLanguage("Crafter, a 2D Minecraft-like world", SkillCall, TAKERS)


class _Stop(Exception):
    """Ends a skill early: out of steps or the episode ended."""


class Executor:
    """Runs skill calls in one :class:`CrafterWorld`; ``search_steps`` bounds the search for a target."""

    def __init__(self, world: CrafterWorld, search_steps: int = 80):
        from crafter import constants
        self.world = world
        self.rules = constants
        self.search_steps = search_steps
        self._limit = 0
        self._retreating = False

    def run(self, call: SkillCall, max_steps: int) -> SkillResult:
        w = self.world
        inv0, ach0, steps0 = w.inventory, w.achievements, w.steps
        self._limit = steps0 + max(0, max_steps)
        try:
            if w.done:
                ok, reason = False, "the episode is over"
            else:
                ok, reason = getattr(self, f"_{call.name}")(*call.args)
        except _Stop as stop:
            ok, reason = False, str(stop)
        inv1, ach1 = w.inventory, w.achievements
        delta = {k: inv1[k] - inv0[k] for k in inv1 if inv1[k] != inv0[k]}
        unlocked = [k for k in ach1 if ach1[k] > 0 and ach0[k] == 0]
        return SkillResult(call, ok, reason, w.steps - steps0, delta, unlocked)

    # --- low-level helpers ------------------------------------------------------------------------
    def _act(self, action: str, defend: bool = True) -> None:
        """One low-level action; first fights back any zombie or skeleton standing next to the player."""
        if defend:
            self._defend()
        if self.world.done:
            raise _Stop("player died" if self.world.player.health <= 0 else "the episode is over")
        if self.world.steps >= self._limit:
            raise _Stop("ran out of steps")
        self.world.step(action)
        if self.world.player.health <= 0:
            raise _Stop("player died")

    def _front(self) -> tuple[int, int]:
        (x, y), (dx, dy) = self.world.pos, self.world.facing
        return x + dx, y + dy

    def _cells(self, target: str) -> list[tuple[int, int]]:
        w = self.world
        if target in CREATURES:
            return [tuple(int(v) for v in o.pos) for o in w.world.objects
                    if type(o).__name__.lower() == target and w.explored[tuple(o.pos)]]
        ids = w.world._mat_ids
        if target not in ids:
            return []
        mask = (w.world._mat_map == ids[target]) & w.explored
        return [tuple(int(v) for v in c) for c in np.argwhere(mask)]

    def _face(self, target: str, accept=None) -> tuple[bool, str]:
        """Walk until a cell holding ``target`` (and passing ``accept``) is in front; explore when none is known."""
        accept = accept or (lambda cell: True)
        start = self.world.steps
        while True:
            front = self._front()
            here = self.world.creature(front) if target in CREATURES else self.world.material(front)
            if here == target and accept(front):
                return True, ""
            if self.world.steps - start >= self.search_steps:
                return False, f"no {target} found within {self.search_steps} steps"
            route = route_to_face(self.world, [c for c in self._cells(target) if accept(c)])
            if route is None:
                route = route_to_frontier(self.world)
                if route is None:
                    return False, f"no {target} reachable (the known map is enclosed)"
                route = route[:6]
            if not route:  # already facing a matching cell
                continue
            self._follow(route[:8])  # re-plan often: creatures move

    def _follow(self, route: list[str]) -> None:
        """Walk a route, mining stone in the way."""
        for action in route:
            pos = self.world.pos
            nxt = _plus(pos, move_delta(action))
            if self.world.material(nxt) == "stone" and self.world.creature(nxt) is None:
                self._act(action)  # turns toward the stone
                self._act("do")
            self._act(action)
            if self.world.pos == pos and self.world.is_free(nxt):
                return

    def _defend(self) -> None:
        """Reflexes: hit back at an adjacent zombie or skeleton; when weak, back away from hostiles in view."""
        if self._retreating:
            return
        self._retreating = True
        try:
            self._fight_back()
            near = [c for pos, _, c in self.world.visible_cells() if c in HOSTILE
                    and abs(pos[0] - self.world.pos[0]) + abs(pos[1] - self.world.pos[1]) <= 5]
            if near and self.world.player.health <= 4:
                self._flee()
        finally:
            self._retreating = False

    def _fight_back(self) -> None:
        for _ in range(8):
            (x, y) = self.world.pos
            threat = next((d for d, m in DIRS.items() if self.world.creature((x + d[0], y + d[1])) in HOSTILE), None)
            if threat is None:
                return
            if self.world.facing != threat:
                self._act(DIRS[threat], defend=False)  # blocked by the creature: only turns
            self._act("do", defend=False)

    def _missing(self, uses: dict[str, int]) -> str:
        inv = self.world.inventory
        for item, n in uses.items():
            if inv.get(item, 0) < n:
                return f"need {n} {item}"
        return ""

    # --- skills -----------------------------------------------------------------------------------
    def _go_to(self, target: str):
        return self._face(target)

    def _collect(self, material: str):
        ok, reason = self._face(material)
        if not ok:
            return ok, reason
        info = self.rules.collect[material]
        missing = self._missing(info["require"])
        if missing:
            return False, missing
        tries = 25 if info.get("probability", 1) < 1 else 3
        for _ in range(tries):
            self._defend()
            if self.world.material(self._front()) != material and not self._face(material)[0]:
                break  # turned away to fight and the target is gone
            before = self.world.inventory
            self._act("do")
            after = self.world.inventory
            if any(after[k] > before[k] for k in info["receive"]):
                return True, ""
        return False, f"{material} gave nothing"

    def _place(self, item: str):
        info = self.rules.place[item]
        missing = self._missing(info["uses"])
        if missing:
            return False, missing
        count = self.world.achievements[f"place_{item}"]
        for where in info["where"]:
            if where == "lava":
                continue
            ok, _ = self._face(where, accept=lambda c: self.world.creature(c) is None and c != self.world.pos)
            if ok:
                self._act(f"place_{item}")
                if self.world.achievements[f"place_{item}"] > count:
                    return True, ""
        return False, f"no free cell to place {item}"

    def _make(self, item: str):
        info = self.rules.make[item]
        nearby, _ = self.world.world.nearby(self.world.pos, 1)
        for util in info["nearby"]:
            if util not in nearby:
                return False, f"no {util} nearby"
        missing = self._missing(info["uses"])
        if missing:
            return False, missing
        self._act(f"make_{item}")
        return True, ""

    def _drink(self):
        ok, reason = self._face("water")
        if not ok:
            return ok, reason
        for _ in range(9):  # at least one sip, then until full
            self._defend()
            if self.world.material(self._front()) != "water" and not self._face("water")[0]:
                break
            self._act("do")
            if self.world.inventory["drink"] >= 9:
                break
        return True, ""

    def _hit_until(self, target: str, achievement: str, accept=None):
        count = self.world.achievements[achievement]
        for _ in range(12):
            ok, reason = self._face(target, accept)
            if not ok:
                return ok, reason
            self._act("do")
            if self.world.achievements[achievement] > count:
                return True, ""
        return False, f"could not finish the {target}"

    def _eat(self, target: str):
        if target == "plant":
            return self._hit_until("plant", "eat_plant", lambda c: self.world.world[c][1].ripe)
        return self._hit_until("cow", "eat_cow")

    def _fight(self, target: str):
        return self._hit_until(target, f"defeat_{target}")

    def _sleep(self):
        p = self.world.player
        if p.inventory["energy"] >= 9:
            return False, "not tired (energy 9/9)"
        woke = self.world.achievements["wake_up"]
        self._act("sleep")
        while p.sleeping:
            self._act("sleep")
        if self.world.achievements["wake_up"] > woke:
            return True, ""
        return False, "woken up by damage"

    def _flee(self):
        hostile = [(pos, c) for pos, _, c in self.world.visible_cells() if c in HOSTILE]
        if not hostile:
            return False, "nothing to flee from"
        for _ in range(8):
            pos = self.world.pos
            threat = min(hostile, key=lambda h: abs(h[0][0] - pos[0]) + abs(h[0][1] - pos[1]))[0]
            options = [(abs(pos[0] + d[0] - threat[0]) + abs(pos[1] + d[1] - threat[1]), m)
                       for d, m in DIRS.items() if self.world.is_free(_plus(pos, d))]
            if not options:
                return False, "cornered"
            self._act(max(options)[1])
        return True, ""

    def _shelter(self):
        """Tunnel two cells into solid rock, step back and wall up the entrance: zombies spawn on grass and
        walk on grass, sand and path, so nothing reaches the player inside until it digs out."""
        missing = self._missing({"wood_pickaxe": 1, "stone": 1})
        if missing:
            return False, missing
        w = self.world

        def solid(c) -> bool:
            return w.material(c) not in ("grass", "sand", "path", "lava", None) and w.creature(c) is None

        def fits(s1, d) -> bool:  # s1 and s1+d are stone; everything around them but the entrance is solid
            s2 = _plus(s1, d)
            if w.material(s1) != "stone" or w.material(s2) != "stone":
                return False
            side = (d[1], d[0])
            around = [_plus(s1, side), _plus(s1, (-side[0], -side[1])), _plus(s2, side),
                      _plus(s2, (-side[0], -side[1])), _plus(s2, d)]
            return all(solid(c) for c in around)

        for _ in range(3):  # walk (without digging, which could break the rock) until facing a good spot
            route = route_to_face(w, self._cells("stone"), allow=fits, dig=False)
            if route is None:
                return False, "no solid rock to dig into nearby"
            self._follow(route)
            if fits(self._front(), w.facing):
                break
        else:
            return False, "the rock changed on the way"
        d = w.facing
        back = DIRS[(-d[0], -d[1])]
        self._act("do")
        self._act(DIRS[d])
        self._act("do")
        self._act(DIRS[d])
        self._act(back)  # into the first tunnel cell, now facing the entrance
        self._act("place_stone")
        if w.material(self._front()) != "stone":
            return False, "could not wall up the entrance"
        return True, ""

    def _explore(self):
        start = self.world.steps
        while self.world.steps - start < 20:
            route = route_to_frontier(self.world, min_dist=2)
            if not route:
                return False, "nothing left to explore"
            self._follow(route[:6])
        return True, ""


def _plus(a, b):
    return a[0] + b[0], a[1] + b[1]
