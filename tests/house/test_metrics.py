"""Task rules and metrics on hand-made houses whose answers are worked out by hand.

ROOM: the refrigerator's centre is at x = 4.625 m on the agent's row (y = 1.125 m); the agent starts at
x = 0.625 m facing it: 4 m away, straight and geodesic. Success needs <= 2 m and the fridge in view, so
8 forward steps then stop. The success region (cells within 1.75 m that see it) begins 2.25 m ahead of
the start: SPL's shortest path l = 2.25 m.
"""
from __future__ import annotations

import numpy as np
import pytest
from house_maps import ROOM, TWO_ROOMS, episode

from envs.house import categories, geodesic
from envs.house.task import DOWN, FORWARD, LEFT, RIGHT, STOP, UP


def act(env, a: int):
    obs, reward, done, info = env.step({"action": np.array([a])})
    return obs, float(reward[0]), bool(done[0]), {k: float(v[0]) for k, v in info.items()}


def test_shortest_success_has_known_reward_and_metrics(room_episode):
    env, obs = room_episode(cell=(4, 2))
    assert obs["gps"][0].tolist() == [0.0, 0.0]
    total = 0.0
    for t in range(8):
        obs, r, done, info = act(env, FORWARD)
        assert not done and np.isnan(info["success"])
        assert r == pytest.approx(0.25 - 0.001, abs=1e-6)  # distance to the fridge drops by one step
        total += r
    np.testing.assert_allclose(obs["gps"][0], [2.0, 0.0], atol=1e-6)
    obs, r, done, info = act(env, STOP)
    assert done and obs["is_last"][0] and obs["is_terminal"][0] and obs["is_first"][0]
    assert r == pytest.approx(2.0 - 0.001, abs=1e-6)
    assert total + r == pytest.approx(8 * 0.249 + 1.999, abs=1e-5)
    assert info["success"] == 1.0
    assert info["episode_length"] == 9
    assert info["distance_to_goal"] == 0.0
    assert info["spl"] == pytest.approx(1.0)  # path 2.0 m <= l = 2.25 m
    assert info["soft_spl"] == pytest.approx(1.0)


def test_detour_lowers_spl_by_the_path_ratio(room_episode):
    env, _ = room_episode(cell=(4, 2))
    for a in (RIGHT, RIGHT, RIGHT, FORWARD, FORWARD, LEFT, LEFT, LEFT, LEFT, LEFT, LEFT, FORWARD, FORWARD,
              RIGHT, RIGHT, RIGHT):  # 0.5 m down and back up: net zero, path +1 m
        *_, done, _ = act(env, a)
        assert not done
    for _ in range(8):
        act(env, FORWARD)
    *_, done, info = act(env, STOP)
    assert done and info["success"] == 1.0
    assert info["spl"] == pytest.approx(2.25 / 3.0, abs=1e-6)


def test_wrong_stop_ends_the_episode_without_success(room_episode):
    env, _ = room_episode(cell=(4, 2))
    obs, r, done, info = act(env, STOP)  # 4 m away
    assert done and obs["is_terminal"][0]
    assert r == pytest.approx(-0.001)
    assert info["success"] == 0.0 and info["spl"] == 0.0 and info["soft_spl"] == 0.0
    assert info["distance_to_goal"] == pytest.approx(2.25, abs=1e-5)
    assert info["episode_length"] == 1


def test_close_but_facing_away_is_not_success(room_episode):
    env, _ = room_episode(cell=(4, 10), heading=6)  # 2 m from the fridge, looking the other way
    *_, done, info = act(env, STOP)
    assert done and info["success"] == 0.0
    env, _ = room_episode(cell=(4, 10), heading=0)
    *_, done, info = act(env, STOP)
    assert info["success"] == 1.0


def test_pitch_decides_whether_a_low_object_is_in_view():
    # a gym ball (centre 0.275 m high) 0.75 m ahead: 0.975 m below the camera, out of the image at pitch 0
    ball = (ROOM.replace("a", "g"), {"g": "gym_ball"}, "gym_ball", (4, 15))
    for actions, success in (((), 0.0), ((UP,), 0.0), ((DOWN,), 1.0)):
        env, _ = episode(*ball)
        for a in actions:
            act(env, a)
        *_, done, info = act(env, STOP)
        assert done and info["success"] == success, actions


def test_wall_between_blocks_success_even_when_close():
    # the ball is 1.25 m from the start in a straight line, through the partition wall
    env, _ = episode(TWO_ROOMS, {"b": "gym_ball"}, "gym_ball", (6, 9), heading=0)
    *_, done, info = act(env, STOP)
    assert done and info["success"] == 0.0
    to_instance, _ = geodesic.category_fields(env.house(0), categories.index("gym_ball"))
    assert to_instance[6, 9] > 2.0  # round through the door


def test_step_cap_truncates(room_episode):
    env, _ = room_episode(cell=(4, 2), max_steps=5)
    for t in range(5):
        obs, r, done, info = act(env, LEFT)
    assert done and obs["is_last"][0] and not obs["is_terminal"][0]
    assert info["episode_length"] == 5 and info["success"] == 0.0
    assert obs["is_first"][0] and obs["step_index"][0] == 0 and obs["episode_index"][0] == 1


def test_blocked_forward_does_not_move(room_episode):
    env, obs = room_episode(cell=(1, 1), heading=9)  # facing the top wall from the first row
    obs, r, done, info = act(env, FORWARD)
    assert obs["gps"][0].tolist() == [0.0, 0.0]
    assert r == pytest.approx(-0.001)
    assert env.agent_pose(0)["y"] == pytest.approx(0.375)


def test_gps_is_in_the_start_frame(room_episode):
    env, _ = room_episode(cell=(2, 4), heading=0)
    act(env, FORWARD)
    act(env, RIGHT)  # now 30° clockwise on the map (+y is to the right of +x)
    obs, *_ = act(env, FORWARD)
    np.testing.assert_allclose(obs["gps"][0], [0.25 + 0.25 * np.cos(np.pi / 6), 0.25 * np.sin(np.pi / 6)],
                               atol=1e-6)
