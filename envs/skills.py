"""The skill-call language that planners share across simulators, and the world protocol they talk to.

Each simulator's skills module (envs/crafter/skills.py, envs/minedojo/skills.py) declares its ``SKILLS``
(name -> :class:`SkillSpec`), a :class:`SkillCall` subclass bound to them and its :class:`SkillLanguage`, so a
plan like ``collect(tree)`` is parsed, checked and stored the same way everywhere.

:class:`SkillWorld` is everything a planner (embodied/planner) may ask of a simulator: the text state, the
inventory, what is in view, running one skill call, and whether a :class:`SkillTask` has been reached.
Crafter (envs/crafter/planning.py) and MineDojo (envs/minedojo/planning.py) implement it; the planner imports
neither, so a third world needs only this protocol.
"""
from __future__ import annotations

import dataclasses
import re
from typing import ClassVar, Protocol, runtime_checkable

_CALL = re.compile(r"^\s*([a-z_]+)\s*\(\s*([^()]*?)\s*\)\s*$")


@dataclasses.dataclass(frozen=True)
class SkillSpec:
    args: tuple[tuple[str, ...], ...]  # allowed values per positional argument
    doc: str


class SkillError(ValueError):
    """A skill call that names no skill or has arguments outside the skill's domain."""


@dataclasses.dataclass(frozen=True)
class SkillCall:
    """``name(args...)``; subclasses set ``skills``, the table ``validated`` checks against."""
    name: str
    args: tuple[str, ...] = ()
    skills: ClassVar[dict[str, SkillSpec]] = {}

    def __str__(self) -> str:
        return f"{self.name}({', '.join(self.args)})"

    @classmethod
    def parse(cls, text: str) -> SkillCall:
        """``"collect(tree)"`` -> validated call; raises :class:`SkillError` naming what is wrong."""
        m = _CALL.match(text)
        if not m:
            raise SkillError(f"{text!r} is not a skill call like collect(tree)")
        args = tuple(a.strip().strip("'\"") for a in m.group(2).split(",") if a.strip())
        return cls(m.group(1), args).validated()

    def validated(self) -> SkillCall:
        spec = self.skills.get(self.name)
        if spec is None:
            raise SkillError(f"unknown skill {self.name!r}; skills: {sorted(self.skills)}")
        if len(self.args) != len(spec.args):
            raise SkillError(f"{self.name} takes {len(spec.args)} argument(s), got {len(self.args)}: {self}")
        for value, allowed in zip(self.args, spec.args):
            if value not in allowed:
                raise SkillError(f"{self}: {value!r} is not allowed for {self.name}; allowed: {list(allowed)}")
        return self


@dataclasses.dataclass
class SkillResult:
    call: SkillCall
    ok: bool
    reason: str
    steps: int
    delta: dict[str, int]  # inventory change over the call
    unlocked: list[str]  # achievements unlocked during the call

    def to_dict(self) -> dict:
        return {"skill": str(self.call), "ok": self.ok, "reason": self.reason, "steps": self.steps,
                "delta": self.delta, "unlocked": self.unlocked}


@dataclasses.dataclass(frozen=True)
class SkillLanguage:
    """One simulator's skill language as a planner sees it."""
    world: str  # the world in a phrase, for prompts: "Crafter, a 2D Minecraft-like world"
    call: type[SkillCall]  # the SkillCall subclass bound to the simulator's SKILLS (parses and checks calls)
    takers: tuple[str, ...] = ()  # calls that take something from the world, tried when an item's source is unknown

    @property
    def skills(self) -> dict[str, SkillSpec]:
        return self.call.skills


@dataclasses.dataclass(frozen=True)
class Target:
    """What a task asks for in the skill language, for planners that chain back from it: a skill call that must
    succeed (``call``, e.g. ``make(wood_pickaxe)``), or holding ``count`` of ``item``."""
    call: str = ""
    item: str = ""
    count: int = 0


class SkillTask(Protocol):
    """A task for a planner: a name (stored with experiences), the goal in words, a low-level step budget."""
    name: str
    budget: int

    @property
    def goal(self) -> str: ...


@runtime_checkable
class SkillWorld(Protocol):
    """One episode of a simulator as a planner drives it: skill calls in, text state and outcomes out."""
    name: str  # the backend, as in env=NAME
    language: SkillLanguage
    seed: int  # the world's seed
    steps: int  # low-level steps taken this episode
    reward: float  # summed over the episode
    done: bool  # the episode is over (death, step cap, the task's own end)

    @property
    def dead(self) -> bool:
        """The agent died (the episode is then over too)."""

    @property
    def inventory(self) -> dict[str, int]:
        """Item -> count held now."""

    def describe(self) -> str:
        """The state as text: vitals, inventory, what is nearby and where, what the agent faces."""

    def nearby(self) -> dict[str, tuple[int, ...]]:
        """Each thing in view -> its nearest offset from the agent."""

    def low(self) -> set[str]:
        """The vitals that are low now (a planner re-plans when one becomes low)."""

    def execute(self, call: SkillCall, max_steps: int) -> SkillResult:
        """Run one skill call for at most ``max_steps`` low-level steps; success or the first reason it failed."""

    def reached(self, task: SkillTask) -> int:
        """How often ``task``'s goal has been reached this episode; an attempt succeeds when this rises."""

    def target(self, task: SkillTask) -> Target | None:
        """What ``task`` asks for in the skill language (None: nothing a planner could chain back from)."""

    def close(self) -> None:
        """Release the simulator."""
