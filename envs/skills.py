"""The skill-call language that planners share across simulators: specs, calls, results, errors.

Each simulator's skills module (envs/crafter/skills.py, envs/minedojo/skills.py) declares its ``SKILLS``
(name -> :class:`SkillSpec`) and a :class:`SkillCall` subclass bound to them, so a plan like
``collect(tree)`` is parsed, checked and stored the same way everywhere.
"""
from __future__ import annotations

import dataclasses
import re
from typing import ClassVar

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
