"""MineDojo programmatic tasks for the planner and RL: obtain an item in a fresh seeded world within a budget.

Each task is a MineDojo programmatic task id (``minedojo.make(task_id)``) and the item whose presence
in the inventory is success, as MineDojo's own success check counts it. Budgets are low-level steps.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping


@dataclasses.dataclass(frozen=True)
class Task:
    name: str  # MineDojo programmatic task id
    item: str  # inventory item that completes it
    quantity: int
    budget: int  # low-level steps allowed per attempt

    @property
    def goal(self) -> str:
        return f"obtain {self.quantity} {self.item}"

    def done(self, inventory: Mapping[str, int]) -> bool:
        return inventory.get(self.item, 0) >= self.quantity


TASKS: dict[str, Task] = {t.name: t for t in (
    Task("harvest_1_log", "log", 1, 600),
    Task("harvest_1_planks", "planks", 1, 800),
    Task("harvest_1_crafting_table", "crafting_table", 1, 1000),
    Task("techtree_from_barehand_to_wooden_pickaxe", "wooden_pickaxe", 1, 2000),
    Task("harvest_1_cobblestone", "cobblestone", 1, 3000),
    Task("techtree_from_barehand_to_stone_pickaxe", "stone_pickaxe", 1, 4000),
)}
TASK_SET = tuple(TASKS)


def task(name: str) -> Task:
    if name not in TASKS:
        raise ValueError(f"task={name!r} is not in the MineDojo task set; allowed: {sorted(TASKS)}")
    return TASKS[name]
