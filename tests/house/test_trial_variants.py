"""The trial variants: one goal per trial (goal_per="trial"), one start per trial (start_per="trial") and GPS
from the trial's first start (gps_frame="trial"), checked against the agent's pose; recorded episodes still replay exactly."""
from __future__ import annotations

import json

import numpy as np
import pytest

import envs.house


def _walk(steps: int, seed: int = 0, **kw):
    """(obs, poses) per step of 4 envs under random actions, with short episodes and trials of 3."""
    env = envs.house.make(num_envs=4, split="train", seed=seed, resolution=16, episodes_per_trial=3, max_steps=12, **kw)
    rng = np.random.default_rng(seed)
    obs = env.reset()
    out = [(obs, [env.agent_pose(i) for i in range(4)])]
    for _ in range(steps):
        obs, *_ = env.step({"action": rng.integers(1, 6, 4)})
        out.append((obs, [env.agent_pose(i) for i in range(4)]))
    return env, out


def _goals_per_trial(walk) -> list[list[int]]:
    """Per env and trial, the goal category of each episode."""
    trials = []
    for i in range(4):
        current = None
        for obs, _ in walk:
            if obs["is_trial_first"][i]:
                current = []
                trials.append(current)
            if obs["is_first"][i]:
                current.append(int(np.argmax(obs["goal"][i])))
    return trials


def test_goal_per_trial_keeps_the_goal_within_a_trial_only():
    _, kept = _walk(400, goal_per="trial")
    trials = [t for t in _goals_per_trial(kept) if len(t) == 3]
    assert len(trials) > 20 and all(len(set(t)) == 1 for t in trials)
    assert len({t[0] for t in trials}) > 3  # a new goal with each trial
    _, default = _walk(400)
    assert any(len(set(t)) > 1 for t in _goals_per_trial(default) if len(t) == 3)  # what the option changes


def _starts_per_trial(walk) -> list[list[tuple]]:
    """Per env and trial, the start pose (x, y, heading) of each episode."""
    trials = []
    for i in range(4):
        for obs, poses in walk:
            if obs["is_trial_first"][i]:
                trials.append([])
            if obs["is_first"][i]:
                trials[-1].append((poses[i]["x"], poses[i]["y"], poses[i]["heading"]))
    return trials


@pytest.mark.parametrize("start_per", ["episode", "trial"])
def test_start_per_trial_repeats_the_first_start_within_a_trial_only(start_per):
    _, walk = _walk(400, goal_per="trial", start_per=start_per)
    trials = [t for t in _starts_per_trial(walk) if len(t) == 3]
    assert len(trials) > 20
    repeated = sum(len(set(t)) == 1 for t in trials)
    assert repeated == (len(trials) if start_per == "trial" else 0)
    assert len({t[0] for t in trials}) > 10  # each trial draws its own start
    assert all(len(set(t)) == 1 for t in _goals_per_trial(walk) if len(t) == 3)


def test_start_per_trial_without_goal_per_trial_is_refused():
    with pytest.raises(ValueError, match="start_per='trial' needs goal_per='trial'"):
        envs.house.make(num_envs=1, start_per="trial")
    with pytest.raises(ValueError, match="start_per='always' is not allowed"):
        envs.house.make(num_envs=1, goal_per="trial", start_per="always")


@pytest.mark.parametrize("frame", ["episode", "trial"])
def test_gps_is_the_offset_from_the_frames_origin_pose(frame):
    _, walk = _walk(200, gps_frame=frame)
    origins = [None] * 4
    later_starts = 0
    for obs, poses in walk:
        for i, pose in enumerate(poses):
            if obs["is_first"][i] if frame == "episode" else obs["is_trial_first"][i]:
                origins[i] = pose
            o = origins[i]
            dx, dy, k = pose["x"] - o["x"], pose["y"] - o["y"], np.deg2rad(o["heading"])
            expected = [dx * np.cos(k) + dy * np.sin(k), -dx * np.sin(k) + dy * np.cos(k)]
            np.testing.assert_allclose(obs["gps"][i], expected, atol=1e-5)
            if obs["is_first"][i] and not obs["is_trial_first"][i] and np.abs(obs["gps"][i]).max() > 0.1:
                later_starts += 1
    assert (later_starts > 10) == (frame == "trial")  # a trial-frame GPS does not restart at 0 each episode


def test_trial_frame_episodes_replay_with_their_gps():
    env = envs.house.make(num_envs=2, split="val", seed=3, resolution=24, gps_frame="trial", goal_per="trial")
    obs = env.reset()
    for _ in range(400):  # into the second episode of env 0's trial
        obs, _, done, _ = env.step({"action": env.oracle_action()})
        if done[0]:
            break
    assert obs["is_first"][0] and not obs["is_trial_first"][0]
    spec, gps, actions = json.loads(json.dumps(env.episode_spec(0))), [obs["gps"][0].copy()], []
    for _ in range(30):
        a = env.oracle_action()
        obs, _, done, _ = env.step({"action": a})
        if done[0]:
            break
        actions.append(int(a[0]))
        gps.append(obs["gps"][0].copy())
    replay = envs.house.from_spec(spec)
    o = replay.reset()
    np.testing.assert_array_equal(o["gps"][0], gps[0])
    assert np.abs(gps[0]).max() > 0  # not the episode's own origin
    for t, a in enumerate(actions):
        o, *_ = replay.step({"action": np.array([a])})
        np.testing.assert_array_equal(o["gps"][0], gps[t + 1])


def test_unknown_variant_is_rejected():
    with pytest.raises(ValueError, match="gps_frame='house' is not allowed"):
        envs.house.make(gps_frame="house")


@pytest.mark.parametrize("frame", ["episode", "trial"])
def test_goal_position_is_a_goal_instance_in_the_gps_frame_where_the_oracle_stops(frame):
    """goal_gps maps back to an instance of the goal category, stays put within the episode, and the
    shortest-path oracle stops within the success distance (2 m) of it in most episodes."""
    env = envs.house.make(num_envs=8, split="test", seed=5, resolution=16, max_steps=200, episodes_per_trial=3,
                          goal_per="trial", gps_frame=frame, goal_position=True)
    assert "goal_gps" in env.obs_space and "goal_gps" not in envs.house.make(resolution=16).obs_space
    obs, origins, ends = env.reset(), [None] * 8, []
    for _ in range(2000):
        for i in range(8):
            pose = env.agent_pose(i)
            if obs["is_first"][i] if frame == "episode" else obs["is_trial_first"][i]:
                origins[i] = pose
            o, k = origins[i], np.deg2rad(origins[i]["heading"])
            f, r = obs["goal_gps"][i]  # back to world coordinates
            x, y = o["x"] + f * np.cos(k) - r * np.sin(k), o["y"] + f * np.sin(k) + r * np.cos(k)
            w = env.world()
            objs = w["objects"][i, :w["nobj"][i]]
            at = np.hypot(objs[:, 0] - x, objs[:, 1] - y) < 1e-3
            assert at.any() and objs[at, 2].astype(int)[0] == w["goal"][i]
        before = obs
        obs, _, done, info = env.step({"action": env.oracle_action()})
        for i in np.flatnonzero(done & info["success"].astype(bool)):
            ends.append(np.hypot(*(before["gps"][i] - before["goal_gps"][i])))
        for i in np.flatnonzero(~done):
            np.testing.assert_array_equal(obs["goal_gps"][i], before["goal_gps"][i])
    ends = np.array(ends)
    assert len(ends) > 100 and np.mean(ends <= 2.0 + 1e-3) > 0.85


def test_goal_position_replays_and_rejects_non_booleans():
    env = envs.house.make(num_envs=1, split="val", seed=2, resolution=16, goal_position=True)
    obs = env.reset()
    replay = envs.house.from_spec(json.loads(json.dumps(env.episode_spec(0))))
    np.testing.assert_array_equal(replay.reset()["goal_gps"], obs["goal_gps"])
    with pytest.raises(ValueError, match="goal_position='yes' is invalid"):
        envs.house.make(goal_position="yes")
