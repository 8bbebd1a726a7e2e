"""An embedded planner that needs no language model.

It starts knowing only the skill list (``make(X)`` crafts X, ``place(X)`` puts X down, ...) and the goal.
Everything else (which call yields wood, that a table needs wood, that stone needs a pickaxe, what fixed
a failure) it learns from skill records: those of the current attempt and, with memory, those of the
retrieved past attempts. With that knowledge it backward-chains a plan from the goal; where a needed
item has no known source it explores, trying the calls that take things from the world, nearest first.

``memory_use="demos"`` is the raw-trajectory baseline: it replays the call sequence of the most similar
successful attempt at the same task instead of learning facts from records.
"""
from __future__ import annotations

import random

from embodied.planner.base import PlanContext, PlannerError
from embodied.planner.knowledge import Knowledge
from embodied.planner.parsing import Proposal
MAX_DEPTH = 10


class _Unknown(Exception):
    """No known way to obtain ``item``."""

    def __init__(self, item: str):
        super().__init__(item)
        self.item = item


class SymbolicPlanner:
    name = "symbolic"

    def __init__(self, memory_use: str = "knowledge", near_radius: int = 6):
        if memory_use not in ("knowledge", "demos"):
            raise PlannerError(f"planner.memory_use={memory_use!r}; allowed: ['knowledge', 'demos']")
        self.memory_use = memory_use
        self.near_radius = near_radius

    def propose(self, ctx: PlanContext) -> Proposal:
        k = Knowledge()
        if self.memory_use == "knowledge":
            for e in ctx.retrieved:
                k.learn(e.plan)
        k.learn(ctx.history)
        calls = self._demo(ctx) if self.memory_use == "demos" else []
        if not calls:
            calls = _Chain(k, ctx, self.near_radius).plan()
        return Proposal([ctx.language.call.parse(c) for c in calls], k.insights())

    def _demo(self, ctx: PlanContext) -> list[str]:
        """The rest of the most similar successful same-task trajectory, after what this attempt already did."""
        demo = next((e for e in ctx.retrieved if e.success and e.task == ctx.task), None)
        if demo is None:
            return []
        steps = [s if isinstance(s, str) else s.get("skill", "") for s in demo.plan]
        pos = 0
        for record in ctx.history:  # how far along the demo this attempt is; a failed step is not repeated
            if pos < len(steps) and steps[pos] == record["skill"]:
                pos += 1
        return steps[pos:]


class _Chain:
    """Backward chaining over learned facts with a virtual inventory."""

    def __init__(self, k: Knowledge, ctx: PlanContext, near_radius: int):
        self.k, self.ctx, self.radius = k, ctx, near_radius
        self.inv = dict(ctx.inventory)
        self.placed: set[str] = set()
        self.rng = random.Random(ctx.seed * 7919 + len(ctx.history))
        make = ctx.language.skills.get("make")
        self.makeable = set(make.args[0]) if make and make.args else set()

    def plan(self) -> list[str]:
        out = self._upkeep() + self._fix()
        target = self.ctx.target
        try:
            if target is not None and target.call:
                out += self._call(target.call, 0)
            elif target is not None and target.item:
                out += self._obtain(target.item, target.count, 0)
            else:
                raise PlannerError(f"the symbolic planner has no goal mapping for task {self.ctx.task!r}")
        except _Unknown as unknown:
            out += self._explore(unknown.item)
        return out or ["explore()"]

    def _upkeep(self) -> list[str]:
        """Drink, eat or sleep first when a vital runs low and the way to restore it has been learned."""
        out = []
        for vital, low in (("drink", 2), ("food", 2), ("energy", 1)):
            if self.inv.get(vital, 9) > low or self.ctx.task in ("collect_drink", "eat_cow"):
                continue
            src = self.k.source(vital)
            if src is None:  # how to restore it is not known yet: that is worth finding out first
                return self._explore(vital, extra=("sleep()",))
            out.append(src)
        return out

    def _fix(self) -> list[str]:
        if not self.ctx.history or self.ctx.history[-1]["ok"]:
            return []
        last = self.ctx.history[-1]
        fix = self.k.fix(last["reason"])
        return [fix] if fix and fix != last["skill"] else []

    def _call(self, call: str, depth: int) -> list[str]:
        if depth > MAX_DEPTH:
            raise _Unknown(call)
        items, near = self.k.requirements(call)
        out = []
        for item, n in sorted(items.items()):
            out += self._obtain(item, n, depth + 1)
        for i, thing in enumerate(sorted(near)):  # walk to the first; put the others down right there
            out += self._be_near(thing, depth + 1, walk=i == 0)
        if near and any(self.inv.get(item, 0) < n for item, n in items.items()):
            for item, n in sorted(items.items()):  # placing used up ingredients: top up, then walk back
                out += self._obtain(item, n, depth + 1)
            out += [f"go_to({thing})" for thing in sorted(near)[:1]]
        out.append(call)
        consumed = self.k.uses.get(call)
        if consumed is None and call.startswith(("make(", "place(")):
            consumed = items  # assumed until seen: crafting and placing use up what they needed
        for item, n in (consumed or {}).items():
            self.inv[item] = self.inv.get(item, 0) - n
        for (c, item), g in self.k.gain.items():
            if c == call:
                self.inv[item] = self.inv.get(item, 0) + g
        if call.startswith("make(") and not any(c == call for c, _ in self.k.gain):
            item = call[5:-1]  # the skill's meaning: make(X) yields X
            self.inv[item] = self.inv.get(item, 0) + 1
        return out

    def _obtain(self, item: str, n: int, depth: int) -> list[str]:
        out = []
        for _ in range(12):
            if self.inv.get(item, 0) >= n:
                return out
            src = self.k.source(item) or (f"make({item})" if item in self.makeable else None)
            if src is None:
                raise _Unknown(item)
            before = self.inv.get(item, 0)
            out += self._call(src, depth)
            if self.inv.get(item, 0) <= before:  # a call whose gain is not known: assume one
                self.inv[item] = before + 1
        return out

    def _be_near(self, thing: str, depth: int, walk: bool = True) -> list[str]:
        off = self.ctx.nearby.get(thing)
        if thing in self.placed or (walk and off and abs(off[0]) + abs(off[1]) <= self.radius):
            return [f"go_to({thing})"] if thing not in self.placed else []
        self.placed.add(thing)
        return self._call(f"place({thing})", depth)

    def _explore(self, item: str, extra: tuple[str, ...] = ()) -> list[str]:
        """Try a call not yet seen to do anything else, nearest visible target first."""
        def untried(call: str) -> bool:
            gave_other = any(c == call for c, _ in self.k.gain) or self.k.tried.get(call)
            return not gave_other

        def dist(call: str) -> float:
            target = {"drink()": "water", "sleep()": ""}.get(call, call[call.find("(") + 1:-1])
            if target == "grass":  # everywhere (the text state does not even list it)
                return 1.0
            off = self.ctx.nearby.get(target)
            return abs(off[0]) + abs(off[1]) if off else 1e3 + self.rng.random()

        def failures(call: str) -> int:
            return sum(self.k.failed.get(call, {}).values())

        takers = self.ctx.language.takers + extra
        free = [c for c in takers if untried(c) and not self.k.needs.get(c) and not self.k.near.get(c)]
        blocked = [c for c in takers if untried(c) and c not in free]
        free = sorted(free, key=lambda c: (failures(c), dist(c)))
        visible = [c for c in free if dist(c) < 1e3 and not failures(c)]
        if visible:
            return [visible[0]]
        for call in sorted(blocked, key=dist):  # a call that reported what it lacks: obtain that first
            try:
                return self._call(call, 1)
            except _Unknown:
                continue
        return [free[0]] if free else ["explore()"]
