"""MineDojo's MultiDiscrete action built from named intents, the craft argument and the RL action set."""
from __future__ import annotations

import numpy as np
import pytest

from envs.minedojo import actions as A


def test_noop_and_camera_bins():
    assert A.noop().tolist() == [0, 0, 0, 12, 12, 0, 0, 0]
    assert A.camera_bin(0) == 12 and A.camera_bin(15) == 13 and A.camera_bin(-30) == 10
    assert A.camera_bin(7) == 12 and A.camera_bin(8) == 13  # nearest 15 degree bin
    assert A.camera_bin(400) == 24 and A.camera_bin(-400) == 0


def test_movement_and_functional_slots():
    assert A.move(forward=1, jump=True).tolist() == [1, 0, 1, 12, 12, 0, 0, 0]
    assert A.move(forward=-1, strafe=-1).tolist() == [2, 1, 0, 12, 12, 0, 0, 0]
    assert A.move(strafe=1, pitch=-15, yaw=90).tolist() == [0, 2, 0, 11, 18, 0, 0, 0]
    assert A.function("attack").tolist() == [0, 0, 0, 12, 12, 3, 0, 0]
    assert A.function("place", slot=35)[[5, 7]].tolist() == [6, 35]
    with pytest.raises(ValueError, match="allowed"):
        A.function("jump")
    with pytest.raises(ValueError, match="slot 36"):
        A.function("equip", slot=36)


def test_craft_argument_indexes_minedojo_item_list(craft_book, craft_index):
    for item, index in craft_index.items():
        action = A.craft(item, craft_book)
        assert action[5] == 4 and action[6] == index
    assert A.craft("crafting table", craft_book)[6] == 7  # inventory-style name with a space
    with pytest.raises(ValueError, match="cannot be crafted"):
        A.craft("diamond_block", craft_book)
    assert craft_book.station("wooden_pickaxe") == "table"
    assert craft_book.station("planks") is None and craft_book.station("iron_ingot") == "furnace"


def test_recipe_shortfall(craft_book):
    assert craft_book.missing("planks", {"log2": 1}) == ""
    assert craft_book.missing("planks", {}) == "need 1 more log"
    assert craft_book.missing("wooden_pickaxe", {"planks": 2}) == "need 1 more planks and 2 more stick"
    assert craft_book.missing("torch", {}) == ""  # no recipe known: the game decides


def test_slots_follow_the_inventory():
    names = np.array(["air", "oak log", "crafting table", "wooden pickaxe"] + ["air"] * 32, dtype=object)
    assert A.slot_of("crafting_table", names) == 2
    assert A.use_item("equip", "wooden_pickaxe", names).tolist() == [0, 0, 0, 12, 12, 5, 0, 3]
    assert A.use_item("place", "furnace", names) is None


def test_rl_action_set_maps_every_index(craft_book):
    names = np.array(["crafting table"] + ["air"] * 35, dtype=object)
    vectors = [A.rl_action(i, names, craft_book) for i in range(len(A.RL_ACTIONS))]
    nvec = np.array([3, 3, 4, 25, 25, 8, 244, 36])
    for v in vectors:
        assert v.dtype == np.int64 and v.shape == (8,) and ((v >= 0) & (v < nvec)).all()
    by_name = dict(zip(A.RL_ACTIONS, vectors, strict=True))
    assert by_name["turn_right"][4] == 13 and by_name["look_up"][3] == 11
    assert by_name["craft:wooden_pickaxe"][[5, 6]].tolist() == [4, 219]
    assert by_name["place:crafting_table"][[5, 7]].tolist() == [6, 0]
    assert by_name["place:furnace"].tolist() == A.noop().tolist()  # not held: nothing happens
    with pytest.raises(ValueError, match="out of range"):
        A.rl_action(len(A.RL_ACTIONS), names, craft_book)


def test_masked_craft_and_place_become_noops(craft_book, make_obs):
    masks = make_obs()["masks"]
    names = ["crafting table"] + ["air"] * 35
    place, craft = A.RL_ACTIONS.index("place:crafting_table"), A.RL_ACTIONS.index("craft:planks")
    assert A.rl_action(place, names, craft_book, masks)[5] == A.FUNCTIONS.index("place")
    masks["place"][0] = False  # MineDojo's ARMasksWrapper: nothing can be placed from slot 0 here
    masks["craft_smelt"][craft_book.index("planks")] = False  # no log to make planks from
    assert (A.rl_action(place, names, craft_book, masks) == A.noop()).all()
    assert (A.rl_action(craft, names, craft_book, masks) == A.noop()).all()
    masks["action_type"][A.FUNCTIONS.index("attack")] = False
    assert (A.rl_action(A.RL_ACTIONS.index("attack"), names, craft_book, masks) == A.noop()).all()
