"""Geodesic fields against a textbook Dijkstra; rendering against the camera geometry; the map."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from house_maps import ROOM, episode
from house_reference import dijkstra

from envs.house import categories, geodesic, layout, render
from envs.house.geometry import CAM_H, PITCH_TAN
from envs.house.task import UP


@pytest.mark.parametrize("seed", [1, 5, 14, 302])
def test_fields_match_reference_dijkstra(seed):
    house = layout.generate(seed)
    cats, inst, succ = geodesic.house_fields(house)
    slot = np.full(categories.NUM_CATEGORIES, -1)
    slot[cats] = np.arange(len(cats))
    sources = np.full(inst.shape, np.inf, np.float32)
    geodesic._instance_sources(house.grid, house.objects, slot, sources)
    nav = house.navigable()
    for i in range(len(cats)):
        ref = dijkstra(house.grid, sources[i])
        np.testing.assert_array_equal(np.isfinite(inst[i]), np.isfinite(ref))
        np.testing.assert_allclose(inst[i][np.isfinite(ref)], ref[np.isfinite(ref)], rtol=0, atol=1e-4)
        assert np.isfinite(inst[i][nav]).all(), "every navigable cell reaches every object"
        region = np.where(succ[i] == 0, 0.0, np.inf)
        ref = dijkstra(house.grid, region)
        np.testing.assert_allclose(succ[i][nav], ref[nav], rtol=0, atol=1e-4)


def test_straight_geodesic_in_a_room():
    house = layout.from_ascii(ROOM, {"a": "refrigerator"})
    inst, succ = geodesic.category_fields(house, categories.index("refrigerator"))
    assert inst[4, 2] == pytest.approx(4.0) and succ[4, 2] == pytest.approx(2.25)
    assert succ[4, 11] == 0.0 and succ[4, 10] == pytest.approx(0.25)


def test_depth_matches_the_geometry(room_episode):
    env, obs = room_episode(cell=(4, 2), heading=6, resolution=64)  # facing the west wall's face at x = 0.25 m
    assert obs["depth"][0, 32, 32, 0] == pytest.approx(0.375, abs=1e-5)
    env, obs = room_episode(cell=(4, 2), heading=0, resolution=64)  # facing east: the fridge 4 m ahead
    depth = obs["depth"][0, :, :, 0]
    assert depth[36, 32] == pytest.approx(4.0, abs=1e-5)
    for row in (50, 60, 63):  # floor: distance along the view axis = CAM_H * f / (row centre - horizon), f = 32
        assert depth[row, 30] == pytest.approx(CAM_H * 32 / (row + 0.5 - 32), rel=1e-5)
    for row in (0, 5):  # ceiling, 1.25 m above the camera
        assert depth[row, 30] == pytest.approx(1.25 * 32 / (32 - row - 0.5), rel=1e-5)


def test_looking_up_moves_the_horizon_down(room_episode):
    env, obs = room_episode(cell=(4, 2), heading=0, resolution=64)  # the east wall 4.625 m ahead
    before = obs["depth"][0, :, 26, 0]
    obs, *_ = env.step({"action": np.array([UP])})
    after = obs["depth"][0, :, 26, 0]
    shift = round(PITCH_TAN * 32)
    wall_before = np.flatnonzero(np.isclose(before, 4.625))
    wall_after = np.flatnonzero(np.isclose(after, 4.625))
    assert len(wall_before) > 10 and abs(len(wall_before) - len(wall_after)) <= 1
    assert wall_after[0] - wall_before[0] == pytest.approx(shift, abs=1)
    assert not np.array_equal(obs["rgb"][0], env.reset()["rgb"][0])


def _single_object_view(cat: str) -> np.ndarray:
    _, obs = episode(ROOM.replace("a", "o"), {"o": cat}, cat, (4, 12), heading=0, resolution=64)
    return obs["rgb"][0].astype(np.int32)


def test_every_category_looks_different():
    views = {c: _single_object_view(c) for c in categories.NAMES}
    for a, b in itertools.combinations(categories.NAMES, 2):
        diff = np.abs(views[a] - views[b]).sum(-1)
        assert (diff > 60).sum() >= 30, f"{a} and {b} are hard to tell apart"


def test_render_is_pure_function_of_state(room_episode):
    env, obs = room_episode(cell=(3, 5), heading=2, resolution=40)
    rgb = np.empty((1, 40, 40, 3), np.uint8)
    depth = np.empty((1, 40, 40, 1), np.float32)
    render.render(env._grid, env._room, env._style, env._objects, env._nobj, env._pos, env._heading, env._pitch,
                  categories.SHAPE, categories.COLOR, categories.SIZE, rgb, depth)
    assert rgb.tobytes() == obs["rgb"].tobytes() and depth.tobytes() == obs["depth"].tobytes()


def test_topdown_map_marks_objects_and_agent(room_episode):
    env, _ = room_episode(cell=(4, 2), heading=0)
    img = env.render_topdown(0, size=200)
    assert img.shape == (200, 200, 3) and img.dtype == np.uint8
    fridge = env.house(0).objects[0]
    x, y = np.round(env.world_to_map(0, fridge[:2], 200)).astype(int)
    assert np.abs(img[y, x].astype(int) - categories.COLOR[int(fridge[2]), 0]).max() <= 2
    ax, ay = np.round(env.world_to_map(0, np.array([0.625, 1.125]), 200)).astype(int)
    assert img[ay, ax].tolist() == [255, 255, 255]  # the agent's marker centre
