"""The env contract (envs/contract.py), checked on every installed backend with random actions.

Spaces, batch shapes and dtypes, flags and counters, same-step auto-reset, trials of
``episodes_per_trial`` episodes, NaN-padded metrics, determinism; and for backends that offer the
planner interface, the text state and skill executor.
"""
from __future__ import annotations

import importlib

import gymnasium
import numpy as np
import pytest

import envs
from contract_backends import PLANNERS, STEPS, small_config
from envs.contract import FLAGS, flag_spaces


def make(backend: str, **overrides):
    if backend.startswith("<"):
        pytest.fail("no backend is installed: the contract suite has nothing to run on")
    return envs.make(backend, **{**small_config(backend), **overrides})


def random_actions(env, rng: np.random.Generator) -> dict[str, np.ndarray]:
    out = {}
    for key, space in env.act_space.items():
        if isinstance(space, gymnasium.spaces.Discrete):
            out[key] = space.start + rng.integers(space.n, size=env.num_envs)
        else:
            space.seed(int(rng.integers(2**31)))
            out[key] = np.stack([space.sample() for _ in range(env.num_envs)])
    return out


def check_batch(env, obs) -> None:
    n = env.num_envs
    assert set(obs) == set(env.obs_space), f"observation keys {sorted(obs)} != obs_space {sorted(env.obs_space)}"
    for key, space in env.obs_space.items():
        value = obs[key]
        assert isinstance(value, np.ndarray), key
        assert value.shape == (n, *space.shape), f"{key}: {value.shape} != {(n, *space.shape)}"
        assert value.dtype == space.dtype, f"{key}: {value.dtype} != {space.dtype}"
        for i in range(n):
            assert space.contains(np.asarray(value[i])), f"{key}[{i}] outside its space"


def rollout(env, seed: int, steps: int = STEPS):
    """Reset and step with seeded random actions; yield (obs before, actions, obs, reward, done, info)."""
    rng = np.random.default_rng(seed)
    obs = env.reset(seed=seed)
    for _ in range(steps):
        act = random_actions(env, rng)
        new, reward, done, info = env.step(act)
        yield obs, act, new, reward, done, info
        obs = new


def test_spaces(backend):
    env = make(backend)
    try:
        assert env.num_envs == small_config(backend).get("num_envs", env.num_envs)
        assert env.episodes_per_trial == small_config(backend)["episodes_per_trial"]
        for key, space in flag_spaces().items():
            assert key in env.obs_space, f"obs_space lacks the contract key {key}"
            assert env.obs_space[key].dtype == space.dtype and env.obs_space[key].shape == ()
        for space in (*env.obs_space.values(), *env.act_space.values()):
            assert isinstance(space, gymnasium.Space)
        assert "action" in env.act_space
        assert env.metric_keys and all(isinstance(k, str) for k in env.metric_keys)
    finally:
        env.close()


NAV_KEYS = {"rgb", "depth", "goal", "gps"}
NAV_METRICS = {"success", "spl", "soft_spl", "distance_to_goal", "episode_length"}


def test_navigation_backends_share_the_task(backend):
    """House and habitat pose one task: same observation keys and dtypes, 6 actions, same metrics."""
    env = make(backend)
    try:
        if not NAV_KEYS <= set(env.obs_space):
            assert not NAV_KEYS & set(env.obs_space), f"partial navigation observations: {sorted(env.obs_space)}"
            return
        space = env.obs_space
        assert space["rgb"].dtype == np.uint8 and space["rgb"].shape[-1] == 3
        assert space["depth"].dtype == np.float32 and space["depth"].shape == space["rgb"].shape[:2] + (1,)
        assert space["goal"].dtype == np.float32 and space["gps"].shape == (2,)
        assert env.act_space["action"].n == 6
        assert NAV_METRICS <= set(env.metric_keys)
    finally:
        env.close()


def test_reset_starts_a_trial_in_every_env(backend):
    env = make(backend)
    try:
        obs = env.reset(seed=0)
        check_batch(env, obs)
        assert obs["is_first"].all() and obs["is_trial_first"].all()
        assert not obs["is_last"].any() and not obs["is_terminal"].any()
        assert (obs["episode_index"] == 0).all() and (obs["step_index"] == 0).all()
    finally:
        env.close()


def test_steps_auto_reset_and_trials(backend):
    env = make(backend)
    n, per_trial = env.num_envs, env.episodes_per_trial
    ended = np.zeros(n, int)
    trial_ends = 0
    try:
        for prev, _, obs, reward, done, info in rollout(env, seed=1):
            check_batch(env, obs)
            assert reward.shape == (n,) and reward.dtype == np.float32 and np.isfinite(reward).all()
            assert done.shape == (n,) and done.dtype == bool
            np.testing.assert_array_equal(done, obs["is_last"])
            assert not (obs["is_terminal"] & ~obs["is_last"]).any(), "is_terminal without is_last"
            # same-step auto-reset: an episode's end comes with the next episode's first observation
            np.testing.assert_array_equal(obs["is_first"], obs["is_last"])
            assert not (obs["is_trial_first"] & ~obs["is_first"]).any()
            for key in env.metric_keys:
                m = info[key]
                assert m.shape == (n,) and m.dtype == np.float32, key
                assert np.isnan(m[~done]).all(), f"{key} set where no episode ended"
                assert np.isfinite(m[done]).all(), f"{key} missing where an episode ended"
            expect_step = np.where(obs["is_first"], 0, prev["step_index"] + 1)
            np.testing.assert_array_equal(obs["step_index"], expect_step)
            trial_over = done & (prev["episode_index"] == per_trial - 1)
            np.testing.assert_array_equal(obs["is_trial_first"], trial_over)
            expect_episode = np.where(trial_over, 0, prev["episode_index"] + done)
            np.testing.assert_array_equal(obs["episode_index"], expect_episode)
            assert (obs["episode_index"] < per_trial).all()
            ended += done
            trial_ends += int(trial_over.sum())
    finally:
        env.close()
    assert ended.sum() > 0, f"no episode ended within {STEPS} random steps: the suite's settings are too long"
    assert trial_ends > 0, f"no trial ended within {STEPS} random steps"


def _trace(backend: str, seed: int, num_envs: int | None = None, action_seed: int | None = None):
    overrides = {} if num_envs is None else {"num_envs": num_envs}
    env = make(backend, **overrides)
    try:
        out = [env.reset(seed=seed)]
        rng = np.random.default_rng(100 + (seed if action_seed is None else action_seed))
        for _ in range(STEPS // 2):
            obs, reward, done, info = env.step(random_actions(env, rng))
            out.append({**obs, "reward": reward, **{f"info/{k}": v for k, v in info.items()}})
        return out
    finally:
        env.close()


def test_determinism(backend):
    a, b = _trace(backend, seed=5), _trace(backend, seed=5)
    for t, (x, y) in enumerate(zip(a, b, strict=True)):
        assert set(x) == set(y)
        for key in x:
            np.testing.assert_array_equal(x[key], y[key], err_msg=f"step {t}, {key}")  # NaN == NaN here
    c = _trace(backend, seed=6, action_seed=5)  # the same actions: only the seed differs
    differs = any(not np.array_equal(x[k], y[k], equal_nan=x[k].dtype.kind == "f")
                  for x, y in zip(a, c) for k in x if k not in FLAGS)
    assert differs, "a different seed gave the same observations, rewards and metrics"  # (Darkroom hides its goal)


def test_reset_with_the_same_seed_restarts_identically(backend):
    env = make(backend)
    try:
        rng = np.random.default_rng(0)
        first = env.reset(seed=11)
        for _ in range(5):
            env.step(random_actions(env, rng))
        again = env.reset(seed=11)
        for key in first:
            np.testing.assert_array_equal(first[key], again[key], err_msg=key)
    finally:
        env.close()


# --- planner interface: text state and skills -----------------------------------------------------------
def planner_modules(backend: str):
    if backend.startswith("<"):
        pytest.fail("no installed backend offers the planner interface")
    return (importlib.import_module(f"envs.{backend}.{m}") for m in ("text_state", "skills", "tasks"))


def test_text_state(planner_backend):
    text_state, _, _ = planner_modules(planner_backend)
    build, _ = PLANNERS[planner_backend]
    text, again = text_state.describe(build()), text_state.describe(build())
    assert isinstance(text, str) and text == again  # same seed, same description
    lines = dict(line.split(": ", 1) for line in text.splitlines())
    assert {"inventory", "nearby", "facing"} <= set(lines), text


def test_skills(planner_backend):
    _, skills, tasks = planner_modules(planner_backend)
    build, first_call = PLANNERS[planner_backend]
    for name, spec in skills.SKILLS.items():
        assert spec.doc and all(isinstance(values, tuple) and values for values in spec.args), name
        call = skills.SkillCall(name, tuple(values[0] for values in spec.args))
        assert skills.SkillCall.parse(str(call)) == call
    with pytest.raises(skills.SkillError):
        skills.SkillCall.parse("teleport(home)")
    assert tasks.TASK_SET and all(tasks.task(t).budget > 0 and tasks.task(t).goal for t in tasks.TASK_SET)
    world = build()
    result = skills.Executor(world).run(skills.SkillCall.parse(first_call), max_steps=30)
    assert isinstance(result.ok, bool) and 0 <= result.steps <= 30
    assert bool(result.reason) != result.ok, "a failed skill must say why, a successful one nothing"
    assert {"skill", "ok", "reason", "steps", "delta"} <= set(result.to_dict())
