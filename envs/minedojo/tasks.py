"""MineDojo programmatic tasks for the planner and RL: a task id in a fresh seeded world within a budget.

Any of MineDojo's 1,572 programmatic task ids (``minedojo.tasks.ALL_PROGRAMMATIC_TASK_IDS``) is accepted;
success is always the task's own ``is_successful``. The six below also name the item the planner aims
for (its goal text) and a budget tuned for them; other ids get ``DEFAULT_BUDGET`` low-level steps.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from envs.skills import Target


@dataclasses.dataclass(frozen=True)
class Task:
    name: str  # MineDojo programmatic task id
    item: str = ""  # inventory item that completes it, where known ("" for other task ids)
    quantity: int = 0
    budget: int = 3000  # low-level steps allowed per attempt

    @property
    def goal(self) -> str:
        return f"obtain {self.quantity} {self.item}" if self.item else self.name.replace("_", " ")

    def done(self, inventory: Mapping[str, int]) -> bool:
        return bool(self.item) and inventory.get(self.item, 0) >= self.quantity

    @property
    def target(self) -> Target | None:
        """The item to hold, for planners that chain back from it (None where the item is not known)."""
        return Target(item=self.item, count=self.quantity) if self.item else None


TASKS: dict[str, Task] = {t.name: t for t in (
    Task("harvest_1_log", "log", 1, 600),
    Task("harvest_1_planks", "planks", 1, 800),
    Task("harvest_1_crafting_table", "crafting_table", 1, 1000),
    Task("techtree_from_barehand_to_wooden_pickaxe", "wooden_pickaxe", 1, 2000),
    Task("harvest_1_cobblestone", "cobblestone", 1, 3000),
    Task("techtree_from_barehand_to_stone_pickaxe", "stone_pickaxe", 1, 4000),
)}
TASK_SET = tuple(TASKS)
DEFAULT_BUDGET = Task("").budget


def programmatic_task_ids() -> list[str] | None:
    """MineDojo's own list of programmatic task ids; None when minedojo is not installed."""
    try:
        from minedojo.tasks import ALL_PROGRAMMATIC_TASK_IDS
    except ImportError:
        return None
    return list(ALL_PROGRAMMATIC_TASK_IDS)


def task(name: str) -> Task:
    if name in TASKS:
        return TASKS[name]
    ids = programmatic_task_ids()
    if ids is None:
        raise ValueError(f"task={name!r} is not one of {sorted(TASKS)}; other MineDojo programmatic task ids "
                         "are checked against minedojo's list, and minedojo is not installed")
    if name not in ids:
        raise ValueError(f"task={name!r} is not a MineDojo programmatic task id ({len(ids)} known, e.g. "
                         f"{ids[:3]}; allowed include {sorted(TASKS)})")
    return Task(name)
