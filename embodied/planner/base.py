"""What every planner backend sees and returns."""
from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from embodied.planner.experience import Experience
from embodied.planner.parsing import Proposal


class PlannerError(RuntimeError):
    """The planner could not produce a usable plan (server down, output malformed after retries, ...)."""


@dataclasses.dataclass
class PlanContext:
    task: str  # the achievement to unlock
    goal: str  # the task in words
    state: str  # text state now
    inventory: dict[str, int]
    nearby: dict[str, tuple[int, int]]  # visible things -> offset from the player
    retrieved: list[Experience]  # similar past attempts, most similar first
    history: list[dict[str, Any]]  # this attempt's skill records so far (skill, ok, reason, delta, ...)
    seed: int = 0  # for planners that break ties at random


class Planner(Protocol):
    name: str

    def propose(self, ctx: PlanContext) -> Proposal:
        """A plan (list of skill calls) and insights for the current state; raises :class:`PlannerError`."""
