"""What every planner backend sees and returns."""
from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from embodied.planner.experience import Experience
from embodied.planner.parsing import Proposal
from envs.skills import SkillLanguage, Target


class PlannerError(RuntimeError):
    """The planner could not produce a usable plan (server down, output malformed after retries, ...)."""


@dataclasses.dataclass
class PlanContext:
    task: str  # the task's name (a Crafter achievement, a MineDojo task id)
    goal: str  # the task in words
    state: str  # text state now
    inventory: dict[str, int]
    nearby: dict[str, tuple[int, int]]  # visible things -> offset from the player
    retrieved: list[Experience]  # similar past attempts, most similar first
    history: list[dict[str, Any]]  # this attempt's skill records so far (skill, ok, reason, delta, ...)
    language: SkillLanguage  # the world's skills: what a plan may call, and how calls are parsed
    target: Target | None = None  # what the task asks for in the skill language, where the world knows
    seed: int = 0  # for planners that break ties at random


class Planner(Protocol):
    name: str

    def propose(self, ctx: PlanContext) -> Proposal:
        """A plan (list of skill calls) and insights for the current state; raises :class:`PlannerError`."""
