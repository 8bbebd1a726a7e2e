"""envs/minedojo against the real minedojo 0.1 from PyPI (run in the minedojo side env by
tests/adapters/test_real_packages.py): ``minedojo.make`` called repeatedly through our worlds, our converters
and actions on its real observation and action spaces, ``CraftBook.from_minedojo`` on its real constants,
its full programmatic task list. ``make`` needs no Java; nothing here resets (which would start Minecraft)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import minedojo
from minedojo.sim.mc_meta import mc
from minedojo.tasks import ALL_PROGRAMMATIC_TASK_IDS

from envs.minedojo import actions as A
from envs.minedojo.actions import RL_ACTIONS, CraftBook, rl_action
from envs.minedojo.observation import VECTOR_SIZE, convert, observation_space
from envs.minedojo.tasks import TASKS, task
from envs.minedojo.world import MineDojoWorld, make_task

sys.path.insert(0, str(Path(__file__).parents[1] / "adapters"))
from adapter_samples import CRAFT_INDEX, RECIPES, minedojo_obs  # noqa: E402

H, W = 32, 48


@pytest.fixture(scope="module")
def real_env():
    return make_task("harvest_1_log", image_size=(H, W), seed=0, world_seed="3", fast_reset=True)


def test_plain_make_breaks_on_the_second_call_and_ours_does_not():
    minedojo.make("harvest_1_planks", image_size=(H, W))
    with pytest.raises(KeyError, match="prompt"):  # minedojo 0.1's bug (tasks/__init__.py:484-494)
        minedojo.make("harvest_1_planks", image_size=(H, W))
    worlds = [MineDojoWorld(task("harvest_1_log"), seed=i, world_seed=i, image_size=(H, W)) for i in range(3)]
    assert [w.world_seed for w in worlds] == [0, 1, 2]
    assert all(w.success is False for w in worlds)  # the task's own is_successful, before any step


def test_every_programmatic_task_id_is_accepted():
    assert len(ALL_PROGRAMMATIC_TASK_IDS) == 1572 and set(TASKS) <= set(ALL_PROGRAMMATIC_TASK_IDS)
    assert all(task(name).name == name for name in ALL_PROGRAMMATIC_TASK_IDS)
    with pytest.raises(ValueError, match="not a MineDojo programmatic task id"):
        task("harvest_1_diamond_hoe_from_nothing")


def test_tasks_with_initial_inventory_make_twice():
    with_inventory = next(t for t in ALL_PROGRAMMATIC_TASK_IDS
                          if "initial_inventory" in minedojo.tasks.ALL_TASKS_SPECS[t])
    for seed in range(2):
        make_task(with_inventory, image_size=(H, W), seed=seed)


def test_action_layout_matches_the_real_action_space(real_env):
    space = real_env.action_space
    assert list(space.nvec) == [3, 3, 4, A.CAMERA_BINS, A.CAMERA_BINS, len(A.FUNCTIONS), 244, A.N_SLOTS]
    book = CraftBook.from_minedojo()
    names = np.array(["air"] * 36, dtype=object)
    names[3] = "crafting table"
    for i in range(len(RL_ACTIONS)):
        assert space.contains(rl_action(i, names, book)), RL_ACTIONS[i]


def real_observation(space, rng):
    """A value of every leaf of MineDojo's observation space (its Text.sample is broken in 0.1)."""
    if hasattr(space, "spaces"):
        return {k: real_observation(s, rng) for k, s in space.spaces.items()}
    if type(space).__name__ == "Text":
        return rng.choice(np.array(["air", "log", "crafting table", "dirt"], dtype=object), size=space.shape)
    if type(space).__name__ in ("Discrete", "MultiDiscrete"):
        return space.sample()
    low, high = np.maximum(space.low, -100), np.minimum(space.high, 100)
    value = rng.uniform(low, high, space.shape) if space.shape else rng.uniform(low, high)
    return np.asarray(value).astype(space.dtype)


def leaves(tree, prefix=""):
    if isinstance(tree, dict) or hasattr(tree, "spaces"):
        items = tree.spaces.items() if hasattr(tree, "spaces") else tree.items()
        return {k: v for key, sub in items for k, v in leaves(sub, f"{prefix}{key}/").items()}
    return {prefix[:-1]: tree}


def test_converter_on_the_real_observation_space(real_env):
    space = real_env.observation_space
    assert {"masks", "delta_inv"} <= set(space.spaces)
    rng = np.random.default_rng(0)
    ours = observation_space(H, W)
    for _ in range(5):
        obs = real_observation(space, rng)
        out = convert(obs, origin=obs["location_stats"]["pos"])
        assert set(out) == set(ours) and out["vector"].shape == (VECTOR_SIZE,)
        for key, sp in ours.items():
            assert out[key].dtype == sp.dtype and sp.contains(out[key]), key


def test_sample_observations_have_the_real_keys_and_shapes(real_env):
    """adapter_samples.minedojo_obs (what the stand-in tests feed the adapter) against the real space."""
    real = leaves(real_env.observation_space)
    sample = leaves(minedojo_obs(height=H, width=W))
    assert set(sample) <= set(real), sorted(set(sample) - set(real))
    for key, value in sample.items():
        assert np.shape(value) == tuple(real[key].shape), key


def test_masks_keep_invalid_craft_and_place_out(real_env):
    book = CraftBook.from_minedojo()
    masks = real_observation(real_env.observation_space, np.random.default_rng(1))["masks"]
    masks["craft_smelt"][:] = False
    masks["place"][:] = False
    names = np.array(["crafting table"] + ["air"] * 35, dtype=object)
    for i, name in enumerate(RL_ACTIONS):
        action = rl_action(i, names, book, masks)
        if name.startswith(("craft:", "place:")):
            assert (action == A.noop()).all(), name
    masks["craft_smelt"][book.index("planks")] = True
    assert rl_action(RL_ACTIONS.index("craft:planks"), names, book, masks)[5] == A.FUNCTIONS.index("craft")


def test_craft_book_on_the_real_constants():
    book = CraftBook.from_minedojo()
    assert len(book.items) == len(mc.ALL_CRAFT_SMELT_ITEMS) == 244
    assert {name: book.index(name) for name in CRAFT_INDEX} == CRAFT_INDEX  # what the stand-in tests use
    assert book.station("wooden_pickaxe") == "table" and book.station("planks") is None
    assert book.station("iron_ingot") == "furnace"
    for item, recipes in RECIPES.items():
        for recipe in recipes:
            assert recipe in book.recipes[item], (item, recipe, book.recipes[item])
    assert book.missing("wooden_pickaxe", {"planks": 3, "stick": 2}) == ""
