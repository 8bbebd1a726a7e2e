"""The gymnasium face of our simulators (envs/gymnasium_export.py), checked with gymnasium's own tools."""
from __future__ import annotations

import io

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs

SMALL = {"embodied/House-v0": {"resolution": 16, "max_steps": 20}, "embodied/Darkroom-v0": {},
         "embodied/Crafter-v0": {"size": 32}}


@pytest.mark.parametrize("env_id", sorted(SMALL))
def test_check_env_passes_on_every_registered_id(env_id):
    env = gymnasium.make(env_id, **SMALL[env_id])
    check_env(env.unwrapped, skip_render_check=False)


def test_every_embodied_id_is_registered():
    assert sorted(k for k in gymnasium.registry if k.startswith("embodied/")) == sorted(SMALL)


def test_vector_env_is_bit_identical_to_the_batched_env():
    kw = {"resolution": 16, "max_steps": 6, "episodes_per_trial": 2}
    vec = gymnasium.make_vec("embodied/House-v0", num_envs=4, vectorization_mode="vector_entry_point", **kw)
    assert vec.metadata["autoreset_mode"] == gymnasium.vector.AutoresetMode.SAME_STEP
    ours = envs.make("house", num_envs=4, **kw)
    obs_g, _ = vec.reset(seed=3)
    obs_o = ours.reset(seed=3)
    actions = np.random.default_rng(0).integers(0, 6, (20, 4))
    ends = 0
    for t in range(len(actions) + 1):
        for k in obs_g:
            assert np.array_equal(obs_g[k], obs_o[k]), (t, k)
        if t == len(actions):
            break
        obs_g, rew_g, term, trunc, info = vec.step(actions[t])
        obs_o, rew_o, done, info_o = ours.step({"action": actions[t]})
        assert np.array_equal(rew_g, rew_o)
        assert np.array_equal(term | trunc, done) and np.array_equal(term, obs_o["is_terminal"])
        assert np.array_equal(info["episode_index"], obs_o["episode_index"])
        ends += int(done.sum())
    assert ends > 0  # the comparison crossed autoresets


def test_stop_terminates_and_the_step_cap_truncates():
    env = gymnasium.make("embodied/House-v0", resolution=16, max_steps=3)
    env.reset(seed=0)
    results = [env.step(2)[2:4] for _ in range(3)]  # turning never ends an episode by itself
    assert results == [(False, False), (False, False), (False, True)]
    env.reset()
    _, _, terminated, truncated, info = env.step(0)  # stop
    assert (terminated, truncated) == (True, False)
    assert {"success", "spl", "episode_index", "is_trial_first"} <= set(info)
    assert info["episode_spec"]["episode_index"] == 1  # the ended (second) episode's, for replay


def test_reset_continues_the_trial_with_the_kept_next_episode():
    env = gymnasium.make("embodied/House-v0", resolution=16, max_steps=2, episodes_per_trial=3)
    _, info = env.reset(seed=1)
    assert info["episode_index"] == 0 and info["is_trial_first"]
    env.step(2)
    obs_end, *_ = env.step(2)
    obs, info = env.reset()
    assert info["episode_index"] == 1 and not info["is_trial_first"]
    assert all(np.array_equal(obs[k], obs_end[k]) for k in obs)


def test_render_frames_encode_to_a_video():
    """RecordVideo needs moviepy, which the project does not install; the same frames go through PyAV."""
    av = pytest.importorskip("av")
    env = gymnasium.make("embodied/House-v0", resolution=16, render_mode="rgb_array")
    env.reset(seed=0)
    frames = [env.render()]
    for _ in range(4):
        env.step(1)
        frames.append(env.render())
    assert frames[0].dtype == np.uint8 and frames[0].ndim == 3 and frames[0].shape[2] == 3
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        for f in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        out.mux(stream.encode())
    buf.seek(0)
    with av.open(buf) as inp:
        decoded = [f.to_ndarray(format="rgb24") for f in inp.decode(video=0)]
    assert len(decoded) == len(frames) and decoded[0].shape == frames[0].shape


def test_gymnasium_make_finds_the_ids_without_importing_envs_first():
    """gymnasium 1.x loads no plugin entry points; its ``module:id`` form imports ``envs`` itself."""
    import subprocess
    import sys

    code = ("import sys, gymnasium; assert 'envs' not in sys.modules; "
            "e = gymnasium.make('envs:embodied/Darkroom-v0'); print(type(e.unwrapped).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "EmbodiedEnv"
