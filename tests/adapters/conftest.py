"""Fixtures over adapter_samples: sample simulator observations and a MineDojo craft book."""
from __future__ import annotations

import pytest

from adapter_samples import CRAFT_INDEX, RECIPES, habitat_obs, minedojo_obs


@pytest.fixture
def craft_index():
    return dict(CRAFT_INDEX)


@pytest.fixture
def craft_book():
    from envs.minedojo.actions import CraftBook

    items = [f"filler_{i}" for i in range(244)]
    for name, i in CRAFT_INDEX.items():
        items[i] = name
    return CraftBook(items=tuple(items), table=frozenset({"wooden_pickaxe", "stone_pickaxe", "furnace"}),
                     smelt=frozenset({"iron_ingot"}), recipes=RECIPES)


@pytest.fixture
def make_obs():
    return minedojo_obs


@pytest.fixture
def make_habitat_obs():
    return habitat_obs
