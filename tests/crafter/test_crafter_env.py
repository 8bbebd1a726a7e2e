"""The Crafter backend behind the env contract, and the Crafter score formula."""
from __future__ import annotations

import numpy as np
import pytest

import envs
from envs.crafter.tasks import ACHIEVEMENTS, crafter_score


def _rollout(env, seed, steps, actions_seed=0):
    rng = np.random.default_rng(actions_seed)
    obs = [env.reset(seed=seed)]
    out = []
    for _ in range(steps):
        o, r, d, info = env.step({"action": rng.integers(0, 17, env.num_envs)})
        out.append((o, r, d, info))
    return obs, out


def test_spaces_and_deterministic_batched_steps():
    a = envs.make("crafter", num_envs=2, seed=3, length=30)
    b = envs.make("crafter", num_envs=2, seed=3, length=30)
    assert a.act_space["action"].n == 17
    first_a, steps_a = _rollout(a, 5, 40)
    first_b, steps_b = _rollout(b, 5, 40)
    for key, space in a.obs_space.items():
        assert first_a[0][key].shape == (2,) + space.shape and first_a[0][key].dtype == space.dtype
    for (oa, ra, _, _), (ob, rb, _, _) in zip(steps_a, steps_b):
        assert all(np.array_equal(oa[k], ob[k]) for k in oa)
        assert np.array_equal(ra, rb)
    assert not np.array_equal(first_a[0]["image"][0], first_a[0]["image"][1])  # two different worlds


def test_auto_reset_flags_metrics_and_trials():
    env = envs.make("crafter", num_envs=1, length=10, episodes_per_trial=2)
    start, steps = _rollout(env, 1, 40)
    ends = [t for t, (o, _, d, _) in enumerate(steps) if d[0]]
    assert ends == [9, 19, 29, 39]
    for t, (o, r, d, info) in enumerate(steps):
        assert o["is_last"][0] == d[0] == o["is_first"][0]
        assert not o["is_terminal"][0]  # truncations at the step cap, not deaths
        if d[0]:
            assert info["length"][0] == 10 and 0 <= info["achievements"][0] <= 22
            assert info["achievements"][0] == sum(info[f"achievement_{a}"][0] for a in ACHIEVEMENTS)
            assert o["is_trial_first"][0] == (t in (19, 39)) and o["step_index"][0] == 0
            assert o["episode_index"][0] == (1 if t in (9, 29) else 0)
        else:
            assert np.isnan(info["length"][0]) and o["step_index"][0] == t % 10 + 1
    # episodes of one trial replay the same world; a new trial is a new world
    assert np.array_equal(steps[9][0]["image"], start[0]["image"])
    assert not np.array_equal(steps[19][0]["image"], start[0]["image"])


def test_invalid_arguments_name_what_is_wrong():
    with pytest.raises(ValueError, match="num_envs=0"):
        envs.make("crafter", num_envs=0)


def test_crafter_score_formula():
    assert crafter_score({a: 0.0 for a in ACHIEVEMENTS}) == pytest.approx(0.0)
    assert crafter_score({a: 1.0 for a in ACHIEVEMENTS}) == pytest.approx(100.0)
    rates = np.random.default_rng(0).random(22)
    expected = np.exp(np.mean(np.log(1 + 100 * rates))) - 1
    assert crafter_score(rates) == pytest.approx(expected)
    # the geometric mean rewards breadth: one achievement always beats nothing, but far less than its mean
    one = {a: float(a == "collect_wood") for a in ACHIEVEMENTS}
    assert 0 < crafter_score(one) < 100 / 22
    with pytest.raises(ValueError, match="22 success rates"):
        crafter_score(np.ones(5))
