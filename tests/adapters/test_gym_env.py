"""env=gym: gymnasium envs behind the contract, with trials of task seeds (envs/gym).

Expected observations come from gymnasium itself (a separate ``gymnasium.make(id).reset(seed=...)``),
not from the adapter, and the contract's flags and counters are tracked independently in the loops.
"""
from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces
from omegaconf import OmegaConf

import envs
from envs.contract import flag_spaces


def cartpole_reset(task_seed: int) -> np.ndarray:
    env = gymnasium.make("CartPole-v1")
    obs, _ = env.reset(seed=int(task_seed))
    env.close()
    return obs


class DictEnv(gymnasium.Env):
    """Dict observations, actions -1, 0, 1 (Discrete with start=-1); ends after 3 steps."""

    observation_space = spaces.Dict({"pos": spaces.Box(-10, 10, (2,), np.float64), "cell": spaces.Discrete(5),
                                     "bits": spaces.MultiBinary(3), "counts": spaces.MultiDiscrete([2, 3])})
    action_space = spaces.Discrete(3, start=-1)

    def __init__(self, scale: float = 1.0):
        self.scale = scale
        self.received: list[int] = []

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.x = 0, float(self.np_random.integers(0, 5))
        return self._obs(), {}

    def step(self, action):
        self.received.append(int(action))
        self.t += 1
        self.x += action
        return self._obs(), float(action), self.t >= 3, False, {}

    def _obs(self):
        return {"pos": np.array([self.x, self.scale * self.t]), "cell": int(self.x) % 5,
                "bits": np.array([self.t % 2, 1, 0], np.int8), "counts": np.array([self.t % 2, self.t % 3])}


class TextEnv(gymnasium.Env):
    observation_space = spaces.Text(8)
    action_space = spaces.Discrete(2)


class NestedEnv(gymnasium.Env):
    observation_space = spaces.Dict({"inner": spaces.Dict({"a": spaces.Discrete(2)})})
    action_space = spaces.Discrete(2)


class FlagKeyEnv(gymnasium.Env):
    observation_space = spaces.Dict({"is_first": spaces.Discrete(2)})
    action_space = spaces.Discrete(2)


class NotAnEnv:
    pass


def ids(cls) -> str:
    return f"{__name__}:{cls.__name__}"


def run(env, steps: int, rng: np.random.Generator, action=None):
    """Step with random (or fixed) actions, yielding (obs, reward, done, info) after each step."""
    for _ in range(steps):
        a = rng.integers(0, env.act_space["action"].n, env.num_envs) if action is None \
            else np.full(env.num_envs, action)
        yield env.step({"action": a})


def test_every_episode_of_a_trial_starts_from_the_task_seed_and_trials_change_it():
    env = envs.make("gym", num_envs=2, seed=3, episodes_per_trial=3, max_steps=4)
    obs = env.reset()
    firsts = {i: [(env.task_seed[i], obs["obs"][i])] for i in range(2)}
    for o, *_ in run(env, 4 * 3 * 3, np.random.default_rng(0)):  # three trials of 3 episodes of 4 steps
        for i in np.flatnonzero(o["is_first"]):
            firsts[i].append((env.task_seed[i], o["obs"][i]))
    seeds_seen = set()
    for i, episodes in firsts.items():
        assert len(episodes) == 10  # reset + 9 auto-resets
        for k, (seed, first) in enumerate(episodes):
            np.testing.assert_array_equal(first, cartpole_reset(seed))  # the env's own reset with that seed
            if k % 3:  # same trial as the episode before: same task
                assert seed == episodes[k - 1][0]
                np.testing.assert_array_equal(first, episodes[k - 1][1])
            elif k:
                assert seed != episodes[k - 1][0]
                assert not np.array_equal(first, episodes[k - 1][1])
        seeds_seen |= {int(s) for s, _ in episodes}
    assert len(seeds_seen) == 8  # 4 trials (the 10th episode starts the 4th) x 2 envs, all distinct
    env.close()


def task_seeds(split: str, trials: int) -> np.ndarray:
    env = envs.make("gym", num_envs=4, seed=11, episodes_per_trial=1, max_steps=1, split=split)
    env.reset()
    seeds = [env.task_seed.copy()]
    for _ in range(trials // 4 - 1):
        env.step({"action": np.zeros(4, np.int64)})
        seeds.append(env.task_seed.copy())
    env.close()
    return np.concatenate(seeds)


def test_train_and_test_task_seeds_are_disjoint_and_follow_the_rule():
    train, test, every = task_seeds("train", 200), task_seeds("test", 200), task_seeds("all", 200)
    assert train.dtype == np.int64 and len(np.unique(train)) == 200 and len(np.unique(test)) == 200
    assert np.all(train % 5 != 0) and np.all(test % 5 == 0)
    assert not set(train) & set(test)
    for s in (train, test, every):
        assert s.min() >= 0 and s.max() < 2**31
    assert np.any(every % 5 == 0) and np.any(every % 5 != 0)
    assert every.max() > 2**30  # spread over the whole range, not a small pool


def test_flags_counters_and_metrics_follow_the_contract_through_episodes():
    n, per_trial = 3, 2
    env = envs.make("gym", num_envs=n, seed=5, episodes_per_trial=per_trial)
    assert set(env.obs_space) == {"obs", *flag_spaces()}
    assert env.act_space == {"action": spaces.Discrete(2)} and env.metric_keys == ("episode_return", "episode_length")
    obs = env.reset()
    assert obs["is_first"].all() and obs["is_trial_first"].all() and not obs["is_last"].any()
    episode, step, ret = np.zeros(n, int), np.zeros(n, int), np.zeros(n)
    episodes_done = np.zeros(n, int)
    for obs, reward, done, info in run(env, 150, np.random.default_rng(1)):
        assert reward.dtype == np.float32 and reward.shape == (n,)
        assert obs["obs"].shape == (n, 4) and obs["obs"].dtype == np.float32
        np.testing.assert_array_equal(done, obs["is_last"])
        np.testing.assert_array_equal(obs["is_first"], obs["is_last"])  # same-step auto-reset
        step += 1
        ret += reward
        for i in range(n):
            if obs["is_last"][i]:
                assert obs["is_terminal"][i]  # random CartPole falls long before the 500-step limit
                assert info["episode_length"][i] == step[i] and info["episode_return"][i] == pytest.approx(ret[i])
                episode[i], step[i], ret[i] = (episode[i] + 1) % per_trial, 0, 0.0
                episodes_done[i] += 1
                assert obs["is_trial_first"][i] == (episode[i] == 0)
                np.testing.assert_array_equal(obs["obs"][i], cartpole_reset(env.task_seed[i]))
            else:
                assert not obs["is_terminal"][i] and not obs["is_trial_first"][i]
                assert np.isnan(info["episode_length"][i]) and np.isnan(info["episode_return"][i])
        np.testing.assert_array_equal(obs["episode_index"], episode)
        np.testing.assert_array_equal(obs["step_index"], step)
    assert episodes_done.min() >= 3
    env.close()


def test_truncation_is_not_termination():
    env = envs.make("gym", num_envs=2, seed=0, max_steps=5)
    env.reset()
    assert not any(o["is_last"].any() for o, *_ in run(env, 4, np.random.default_rng(0)))
    obs, _, done, info = env.step({"action": np.array([0, 1])})
    assert done.all() and not obs["is_terminal"].any() and np.all(info["episode_length"] == 5)
    env.close()
    # the id's registered TimeLimit (here shortened through gymnasium.make's max_episode_steps) truncates too
    env = envs.make("gym", seed=0, kwargs={"max_episode_steps": 3})
    env.reset()
    flags = [(o["is_last"][0], o["is_terminal"][0]) for o, *_ in run(env, 3, None, action=0)]
    assert flags == [(False, False), (False, False), (True, False)]
    env.close()
    # always pushing right drops the pole: a termination
    env = envs.make("gym", seed=0)
    env.reset()
    for k in range(1, 100):
        obs, _, done, _ = env.step({"action": np.array([1])})
        if done[0]:
            break
    assert done[0] and obs["is_terminal"][0] and k < 50
    env.close()


def test_same_seed_and_actions_give_identical_observations():
    def trace(seed):
        env = envs.make("gym", num_envs=2, seed=seed, episodes_per_trial=2, max_steps=20)
        out = [env.reset()["obs"]] + [o["obs"] for o, *_ in run(env, 60, np.random.default_rng(9))]
        seeds = env.task_seed
        env.close()
        return np.stack(out), seeds

    a, b, c = trace(4), trace(4), trace(5)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0]) and not np.array_equal(a[1], c[1])


def test_stochastic_dynamics_are_fresh_each_episode_yet_reproducible():
    def trajectories(seed):
        env = envs.make("gym", id="FrozenLake-v1", seed=seed, episodes_per_trial=8, max_steps=6,
                        kwargs={"is_slippery": True})
        obs = env.reset()
        assert obs["obs"].dtype == np.int64 and obs["obs"].shape == (1,)
        assert env.obs_space["obs"] == spaces.Discrete(16)
        paths, path = [], [int(obs["obs"][0])]
        while len(paths) < 8:
            obs, _, done, _ = env.step({"action": np.array([2])})  # always "right"
            if done[0]:
                paths.append(tuple(path))
                path = []
            path.append(int(obs["obs"][0]))
        env.close()
        return paths

    paths = trajectories(0)
    assert len({p[0] for p in paths}) == 1  # one task: same start
    assert len(set(paths)) > 1  # slips differ across the trial's episodes
    assert paths == trajectories(0)


def test_dict_observations_keep_their_keys_and_discrete_start_is_mapped():
    env = envs.make("gym", id=ids(DictEnv), num_envs=2, seed=1, episodes_per_trial=2, kwargs={"scale": 2.0})
    inner = [sim.env for sim in env.sims]
    assert set(env.obs_space) == {"pos", "cell", "bits", "counts", *flag_spaces()}
    assert env.obs_space["pos"] == DictEnv.observation_space["pos"]
    assert env.act_space == {"action": spaces.Discrete(3)}
    obs = env.reset()
    assert obs["pos"].dtype == np.float64 and obs["pos"].shape == (2, 2)
    assert obs["cell"].dtype == np.int64 and obs["cell"].shape == (2,)
    assert obs["bits"].dtype == np.int8 and obs["counts"].shape == (2, 2)
    for i in range(2):
        expected, _ = DictEnv(scale=2.0).reset(seed=int(env.task_seed[i]))
        for k in expected:
            np.testing.assert_array_equal(obs[k][i], expected[k])
    obs, reward, *_ = env.step({"action": np.array([0, 2])})
    assert inner[0].received == [-1] and inner[1].received == [1]
    np.testing.assert_array_equal(reward, [-1.0, 1.0])
    np.testing.assert_array_equal(obs["pos"][:, 1], [2.0, 2.0])  # kwargs reached the class
    with pytest.raises(ValueError, match="out of range"):
        env.step({"action": np.array([3, 0])})
    env.close()


def test_config_composes_and_builds():
    from embodied.config import load

    cfg = OmegaConf.to_container(load("train", ["env=gym", "env.num_envs=2"]).env, resolve=True)
    import inspect

    import envs.gym

    assert cfg["name"] == "gym" and set(cfg) <= set(inspect.signature(envs.gym.make).parameters)
    env = envs.make(**cfg, seed=0)
    assert env.num_envs == 2 and env.reset()["obs"].shape == (2, 4)
    env.close()
    assert envs.availability()["gym"][0]


@pytest.mark.parametrize("cfg, message", [
    (dict(id="CartPoel-v1"), r"env.id='CartPoel-v1' is not a registered gymnasium id.*CartPole-v1"),
    (dict(id="Pendulum-v1"), r"Pendulum-v1.*action space Box.*Discrete action space"),
    (dict(id=ids(TextEnv)), r"Text.*supported observation spaces: Box, Discrete, MultiDiscrete, MultiBinary"),
    (dict(id=ids(NestedEnv)), r"'inner'.*nested"),
    (dict(id=ids(FlagKeyEnv)), r"'is_first' collides"),
    (dict(id=ids(NotAnEnv)), r"not a gymnasium.Env"),
    (dict(id="no_such_module_xyz:Env"), r"cannot import module 'no_such_module_xyz'"),
    (dict(id=f"{__name__}:Missing"), r"has no attribute 'Missing'"),
    (dict(split="val"), r"env.split='val' is not allowed.*train.*test.*all"),
    (dict(num_envs=0), r"env.num_envs=0"),
    (dict(max_steps=0), r"env.max_steps=0"),
    (dict(episodes_per_trial=0), r"env.episodes_per_trial=0"),
])
def test_clear_errors(cfg, message):
    with pytest.raises(ValueError, match=message):
        envs.make("gym", **cfg)
