"""The oracle and random baselines, the contract basics of HouseEnv, `embodied sim`, and bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest

import envs.house
from embodied import cli
from embodied.replay.video import read_frames
from envs.house import layout


def _episodes(policy: str, split: str, episodes: int, num_envs: int = 8, seed: int = 0) -> dict[str, float]:
    env = envs.house.make(num_envs=num_envs, split=split, seed=seed, resolution=16)
    env.reset()
    rng = np.random.default_rng(seed)
    quota = episodes // num_envs
    got = {k: [] for k in env.metric_keys}
    counted = np.zeros(num_envs, int)
    while (counted < quota).any():
        a = env.oracle_action() if policy == "oracle" else env.random_action(rng)
        _, _, done, info = env.step({"action": a})
        for i in np.flatnonzero(done & (counted < quota)):
            counted[i] += 1
            for k in got:
                got[k].append(float(info[k][i]))
    return {k: float(np.mean(v)) for k, v in got.items()}


def test_oracle_succeeds_with_high_spl_on_val():
    m = _episodes("oracle", "val", 48)
    assert m["success"] >= 0.99 and m["spl"] >= 0.9


def test_random_policy_rarely_succeeds():
    m = _episodes("random", "val", 200)
    assert m["success"] <= 0.05


@pytest.mark.slow
@pytest.mark.parametrize("split", ["val", "test"])
def test_oracle_on_200_episodes(split):
    m = _episodes("oracle", split, 200)
    assert m["success"] >= 0.99 and m["spl"] >= 0.9, m


def test_observations_flags_and_trials():
    env = envs.house.make(num_envs=3, split="train", seed=4, resolution=16, episodes_per_trial=2)
    obs = env.reset()
    assert obs["is_first"].all() and obs["is_trial_first"].all() and (obs["episode_index"] == 0).all()
    for key, space in env.obs_space.items():
        assert obs[key].shape == (3, *space.shape) and obs[key].dtype == space.dtype, key
    assert env.act_space["action"].n == 6
    for _ in range(2):  # stop twice: two episodes, then a new trial
        prev = obs
        obs, reward, done, info = env.step({"action": np.zeros(3, np.int64)})
        assert done.all() and obs["is_terminal"].all() and obs["is_first"].all()
        np.testing.assert_array_equal(obs["is_trial_first"], prev["episode_index"] == 1)
        assert obs["goal"].sum(1).tolist() == [1.0] * 3 and (obs["gps"] == 0).all()
    assert (obs["episode_index"] == 0).all()


def test_sim_command_writes_metrics_and_video(tmp_path):
    video, metrics = tmp_path / "ep.mp4", tmp_path / "m.json"
    rc = cli.main(["sim", "split=test", "episodes=4", "num_envs=2", "env.resolution=32", "video_size=64",
                   f"video={video}", f"metrics={metrics}"])
    assert rc == 0
    data = json.loads(metrics.read_text())
    assert data["episodes"] == 4 and data["split"] == "test" and data["mean"]["success"] == 1.0
    assert all(r["spec"]["split"] == "test" for r in data["per_episode"])
    first = next(r for r in data["per_episode"] if r["env"] == 0)
    frames, info = read_frames(video)
    assert info["codec"] == "h264" and (info["width"], info["height"]) == (192, 64 + 24)
    assert len(frames) == first["episode_length"] + 9  # one frame per step, the last held for a second


@pytest.mark.parametrize("args, message", [
    (["policy=walk"], "policy='walk' is not allowed; allowed values: ['oracle', 'random', 'explorer', 'explorer_memory']"),
    (["split=dev"], "split='dev' is not allowed; allowed values: ['train', 'val', 'test']"),
    (["episodes=0"], "episodes=0 is invalid; expected a positive integer"),
    (["video=out.avi"], "video='out.avi' is invalid; expected null or a path ending in .mp4"),
    (["metrics=out.txt"], "metrics='out.txt' is invalid"),
    (["env.resolution=-1"], "env.resolution=-1 is invalid"),
    (["env.name=habitat"], "env.name='habitat' is not allowed"),
])
def test_sim_rejects_bad_config(args, message, capsys):
    assert cli.main(["sim", *args]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("kw, message", [
    ({"split": "dev"}, "split='dev' is not allowed; allowed values: ['train', 'val', 'test']"),
    ({"resolution": 0}, "resolution=0 is invalid"),
    ({"num_envs": 2.5}, "num_envs=2.5 is invalid"),
    ({"episodes_per_trial": 0}, "episodes_per_trial=0 is invalid"),
])
def test_make_rejects_bad_arguments(kw, message):
    with pytest.raises(ValueError) as e:
        envs.house.make(**kw)
    assert message in str(e.value)


def test_bad_actions_and_maps_are_named():
    env = envs.house.make(num_envs=2, resolution=16)
    env.reset()
    with pytest.raises(ValueError, match="actions must be in 0..5"):
        env.step({"action": np.array([0, 6])})
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        env.step({"action": np.array([0])})
    with pytest.raises(ValueError, match="unknown character 'x'"):
        layout.from_ascii("####\n#.x#\n####", {})
    with pytest.raises(ValueError, match="enclosed by walls"):
        layout.from_ascii("####\n#...\n####", {})
    with pytest.raises(ValueError, match="unknown object category 'sofa2'"):
        layout.from_ascii("#####\n#...#\n#.a.#\n#...#\n#####", {"a": "sofa2"})
    with pytest.raises(ValueError, match="overlaps a wall"):
        layout.from_ascii("####\n#a.#\n####", {"a": "sofa"})
