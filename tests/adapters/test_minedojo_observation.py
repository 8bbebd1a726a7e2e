"""MineDojo observation conversion and text state on sample observation dicts."""
from __future__ import annotations

import numpy as np
import pytest

from envs.minedojo import observation as O
from envs.minedojo.text_state import describe, facing_block


def test_inventory_merges_stacks_and_normalises_names(make_obs):
    obs = make_obs(inventory=[("log", 3), ("crafting table", 1), ("log", 2), ("air", 0)])
    assert O.inventory_counts(obs) == {"log": 5, "crafting_table": 1}
    assert O.mainhand(make_obs(mainhand="wooden pickaxe")) == "wooden_pickaxe"
    assert O.mainhand(make_obs()) == "nothing"


@pytest.mark.parametrize("yaw, world_offset, expected", [
    (0.0, (0, 0, 1), (1, 0, 0)),     # facing south (+z): +z is ahead
    (0.0, (-1, 0, 0), (0, 1, 0)),    # facing south, west (-x) is on the right
    (90.0, (-1, 1, 0), (1, 0, 1)),   # facing west: -x ahead, one up
    (180.0, (1, 0, 0), (0, 1, 0)),   # facing north: east is on the right
    (-90.0, (0, -1, -1), (0, -1, -1)),  # facing east: north (-z) is on the left, one down
])
def test_nearby_blocks_in_the_agent_frame(make_obs, yaw, world_offset, expected):
    obs = make_obs(blocks={world_offset: "log"}, yaw=yaw)
    assert O.nearby_blocks(obs)["log"] == expected


def test_rl_observation_shapes_and_contents(make_obs):
    obs = make_obs(inventory=[("planks", 4), ("stick", 2)], mainhand="stick", table=True, yaw=90.0,
                   pos=(42.5, 70.0, 3.5), life=10.0, height=20, width=30)
    out = O.convert(obs, origin=(10.5, 64.0, 3.5))
    space = O.observation_space(20, 30)
    for key in space:
        assert out[key].dtype == space[key].dtype and space[key].contains(out[key]), key
    np.testing.assert_array_equal(out["rgb"], obs["rgb"].transpose(1, 2, 0))
    v = out["vector"]
    assert v[0] == pytest.approx(0.5)  # life 10 / 20
    np.testing.assert_allclose(v[5:8], [1.0, 6 / 32, 0.0])  # moved 32 blocks east, 6 up
    np.testing.assert_allclose(v[8:10], [1.0, 0.0], atol=1e-6)  # sin, cos of yaw 90
    inv = v[11:11 + len(O.VOCAB)]
    assert inv[O.VOCAB.index("planks")] == pytest.approx(4 / 64) and inv[O.VOCAB.index("log")] == 0
    hand = v[11 + len(O.VOCAB):11 + 2 * len(O.VOCAB)]
    assert hand.sum() == 1 and hand[O.VOCAB.index("stick")] == 1
    assert v[-2:].tolist() == [1.0, 0.0]
    with pytest.raises(ValueError, match="\\(3, H, W\\)"):
        O.rgb({"rgb": np.zeros((8, 8, 3), np.uint8)})


def test_text_state_reads_like_crafters(make_obs):
    obs = make_obs(inventory=[("log", 2), ("wooden pickaxe", 1)], mainhand="wooden pickaxe",
                   blocks={(0, 1, 1): "log", (1, 0, 0): "stone", (0, 0, -1): "crafting_table"}, table=True)
    text = describe(obs)
    lines = dict(line.split(": ", 1) for line in text.splitlines())
    assert lines["vitals"].startswith("life 20/20, food 20/20")
    assert lines["inventory"] == "log 2, wooden_pickaxe 1"
    assert lines["equipment"] == "wooden_pickaxe in hand"
    assert lines["nearby"] == "crafting_table 1 behind; log 1 ahead 1 up"  # ground blocks left out
    assert lines["crafting stations nearby"] == "table"
    assert lines["facing"] == "log" == facing_block(obs)
    assert "stone 1 left" in describe(obs, show_ground=True)
