"""SerialEnv (the batch behind the habitat and MineDojo adapters) with a counting stand-in simulator."""
from __future__ import annotations

import gymnasium
import numpy as np
import pytest

from envs.serial import SerialEnv, Transition


class Countdown:
    """Stand-in simulator: each episode lasts ``length`` steps (action 1 ends it early, terminally)."""

    def __init__(self, length: int):
        self.length, self.scene, self.t, self.trials = length, -1, 0, 0

    def new_trial(self, rng):
        self.scene, self.trials = int(rng.integers(1000)), self.trials + 1

    def new_episode(self, rng):
        self.t = 0
        return {"x": np.array([self.scene, self.t], np.float32)}

    def step(self, action):
        self.t += 1
        obs = {"x": np.array([self.scene, self.t], np.float32)}
        if int(action) == 1 or self.t >= self.length:
            return Transition(obs, 1.0, terminal=int(action) == 1, truncated=int(action) != 1,
                              metrics={"length": float(self.t)})
        return Transition(obs, 0.5)

    def close(self):
        pass


def make(lengths=(3, 5), episodes_per_trial=2, seed=0):
    space = {"x": gymnasium.spaces.Box(-np.inf, np.inf, (2,), np.float32)}
    return SerialEnv([Countdown(n) for n in lengths], space, {"action": gymnasium.spaces.Discrete(2)},
                     ("length",), episodes_per_trial, seed)


def test_auto_reset_trials_and_metrics():
    env = make()
    obs = env.reset()
    assert obs["is_first"].all() and obs["is_trial_first"].all()
    scenes = obs["x"][:, 0].copy()
    zero = {"action": np.zeros(2, np.int64)}
    for t in range(1, 3):
        obs, reward, done, info = env.step(zero)
        assert not done.any() and np.isnan(info["length"]).all()
        assert obs["step_index"].tolist() == [t, t]
    obs, reward, done, info = env.step(zero)  # env 0 reaches its cap of 3
    assert done.tolist() == [True, False] and reward.tolist() == [1.0, 0.5]
    assert obs["is_last"].tolist() == [True, False] and not obs["is_terminal"].any()  # truncation
    assert obs["is_first"].tolist() == [True, False] and not obs["is_trial_first"].any()
    assert info["length"][0] == 3 and np.isnan(info["length"][1])
    assert obs["episode_index"].tolist() == [1, 0] and obs["step_index"].tolist() == [0, 3]
    assert obs["x"][0].tolist() == [scenes[0], 0]  # same scene, fresh episode
    obs, _, done, _ = env.step({"action": np.array([1, 0])})  # terminal stop ends env 0's 2nd episode
    assert obs["is_terminal"].tolist() == [True, False]
    assert obs["is_trial_first"].tolist() == [True, False] and obs["episode_index"].tolist() == [0, 0]


def test_same_seed_same_scenes_and_batch_size_does_not_change_a_stream():
    a, b, c = make(seed=4), make(seed=4), make(lengths=(3, 5, 4), seed=4)
    ones = {"action": np.ones(3, np.int64)}
    xa, xb, xc = a.reset()["x"], b.reset()["x"], c.reset()["x"]
    for _ in range(6):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(xa, xc[:2])
        xa, xb, xc = (e.step(ones)[0]["x"] for e in (a, b, c))
    assert not np.array_equal(make(seed=5).reset()["x"], a.reset()["x"])


def test_misuse_is_reported():
    with pytest.raises(RuntimeError, match="reset"):
        make().step({"action": np.zeros(2, np.int64)})
    with pytest.raises(ValueError, match="episodes_per_trial"):
        make(episodes_per_trial=0)

    class NoMetrics(Countdown):
        def step(self, action):
            tr = super().step(action)
            tr.metrics = {}
            return tr

    env = SerialEnv([NoMetrics(1)], {}, {}, ("length",), 1)
    env.reset()
    with pytest.raises(RuntimeError, match="without metrics \\['length'\\]"):
        env.step({"action": np.zeros(1, np.int64)})
