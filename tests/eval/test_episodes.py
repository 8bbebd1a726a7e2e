"""The episode loop that `embodied eval` and `embodied sim` share (embodied/rollout/episodes.py): exactly each
env's quota of rows, each with the return of that episode as the env stepped by hand gives it, and the
backend's own metrics."""
from __future__ import annotations

import numpy as np
import pytest

import envs
from embodied.rollout.actor import RandomActor
from embodied.rollout.episodes import Episodes, Hook

SIZE, HORIZON = 2, 6  # a random walk finds the goal in some episodes, not in others


def _darkroom():
    return envs.make("darkroom", num_envs=3, seed=5, episodes_per_trial=2, size=SIZE, horizon=HORIZON)


class _Steps(Hook):
    """Every step's actions as the hooks see them, and how often each hook call came."""

    def __init__(self):
        self.resets, self.befores, self.actions = 0, 0, []

    def reset(self, env, obs):
        self.resets += 1

    def before(self, env, obs, actions):
        self.befores += 1

    def after(self, env, actions, obs, reward, info):
        self.actions.append(np.array(actions))


def test_quota_rows_whose_returns_match_the_env_stepped_by_hand():
    quota = [3, 1, 4]
    env, hook = _darkroom(), _Steps()
    loop = Episodes(env, RandomActor(seed=2), quota, seed=9, hooks=[hook])
    rows = list(loop)
    env.close()
    assert [sum(r["env"] == i for r in rows) for i in range(3)] == quota
    assert loop.steps == HORIZON * max(quota)  # darkroom episodes last the horizon: no step past the last quota
    assert hook.resets == 1 and hook.befores == len(hook.actions) == loop.steps

    # by hand: the same env, seed and random actions; a return is the sum of the rewards of its episode
    env, actor = _darkroom(), RandomActor(seed=2)
    obs = env.reset(seed=9)
    running, by_hand = np.zeros(3), [[] for _ in range(3)]
    for t in range(loop.steps):
        action = actor.act(env, obs)
        np.testing.assert_array_equal(action, hook.actions[t])
        index = obs["episode_index"].copy()
        obs, reward, last, info = env.step({"action": action})
        running += reward
        for i in np.flatnonzero(last):
            by_hand[i].append({"env": int(i), "episode_index": int(index[i]), "return": float(running[i]),
                               **{k: float(info[k][i]) for k in env.metric_keys}})
            running[i] = 0.0
    env.close()
    for i in range(3):
        assert [r for r in rows if r["env"] == i] == by_hand[i][:quota[i]]
    assert [r["episode_index"] for r in rows if r["env"] == 2] == [0, 1, 0, 1]
    returns = {r["return"] for r in rows}
    assert 0.0 in returns and len(returns) > 2  # returns differ between episodes: the check has teeth


@pytest.mark.parametrize("backend, cfg", [("darkroom", {"size": SIZE, "horizon": HORIZON}),
                                          ("house", {"split": "test", "resolution": 8, "max_steps": 20})])
def test_rows_carry_the_backends_own_metrics(backend, cfg):
    env = envs.make(backend, num_envs=2, seed=1, episodes_per_trial=1, **cfg)
    rows = list(Episodes(env, RandomActor(seed=0), 2, seed=1))
    env.close()
    assert len(rows) == 4
    assert all(list(r) == ["env", "episode_index", "return", *env.metric_keys] for r in rows)
    assert ("spl" in env.metric_keys) == (backend == "house")  # the two backends' metrics differ


def test_a_step_quota_ends_each_env_with_the_episode_running_at_that_step():
    """House episodes end when the goal is found or at the cap, so envs reach the step quota after different
    numbers of episodes; each reports exactly the episodes that start before it."""
    quota_steps, cap = 50, 12
    env = envs.make("house", num_envs=4, seed=3, episodes_per_trial=quota_steps, split="test", resolution=8,
                    max_steps=cap)
    hook = _Lengths()
    rows = list(Episodes(env, RandomActor(seed=1), quota_steps, seed=2, hooks=[hook], step_quota=quota_steps))
    env.close()
    for i in range(4):
        lengths = hook.lengths[i]
        starts = np.cumsum([0] + lengths)
        reported = [r for r in rows if r["env"] == i]
        expected = int(np.sum(starts[:-1] < quota_steps))  # episodes starting before the quota's step
        assert len(reported) == expected and starts[expected] >= quota_steps
        assert [r["episode_index"] for r in reported] == list(range(expected))
    counts = {sum(r["env"] == i for r in rows) for i in range(4)}
    assert len(counts) > 1  # the envs took different numbers of episodes: the check has teeth


class _Lengths(Hook):
    """Each env's episode lengths, from the steps it took."""

    def reset(self, env, obs):
        self.lengths, self.running = [[] for _ in range(env.num_envs)], np.zeros(env.num_envs, int)

    def after(self, env, actions, obs, reward, info):
        self.running += 1
        for i in np.flatnonzero(np.asarray(obs["is_first"])):
            self.lengths[i].append(int(self.running[i]))
            self.running[i] = 0
