"""Replay: the MP4 decodes back with the right frames, matches a fresh render, and divergence is caught."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from embodied.cli import main as cli
from embodied.replay import frames as fr
from embodied.replay.episode_file import read, write
from embodied.replay.replayer import ReplayDivergence, StepRenderer, replay, simulate
from embodied.replay.video import psnr, read_frames


def _fresh_frames(ep, size):
    """Render every step from a new simulator, independently of the replayed video."""
    out, renderer = [], None
    for t, env, obs, total in simulate(ep, verify=False):
        renderer = renderer or StepRenderer(env, ep, size)
        out.append(renderer.render(obs, t, total).copy())
    return out


def test_video_decodes_with_expected_frames_and_matches_fresh_render(oracle_episodes, tmp_path):
    path = max(oracle_episodes, key=lambda p: len(read(p)))
    ep = read(path)
    size = 128
    result = replay(path, tmp_path / "ep.mp4", size=size)
    frames, info = read_frames(result.video)
    h, w, _ = fr.frame_shape(size)
    assert info["codec"] == "h264" and (info["width"], info["height"]) == (w, h) == (3 * size, size + 24)
    assert len(frames) == len(ep) == result.frames
    fresh = _fresh_frames(ep, size)
    scores = [psnr(frames[t], fresh[t]) for t in range(len(ep))]
    assert min(scores) > 30.0, scores
    # Each decoded frame is closest to its own step's render, not to its neighbours' (the order is right).
    for t in range(len(ep)):
        neighbours = [psnr(frames[t], fresh[j]) for j in (t - 1, t + 1) if 0 <= j < len(ep)]
        assert scores[t] > max(neighbours) + 1.0, (t, scores[t], neighbours)


def test_recorded_frames_match_the_resimulation(oracle_episodes):
    ep = read(oracle_episodes[0])
    assert ep.frames["rgb"].shape[0] == len(ep)
    for t, env, obs, _ in simulate(ep):  # verify=True also compares the recorded frames
        np.testing.assert_array_equal(obs["depth"][0], ep.frames["depth"][t])


def test_divergence_is_reported_with_the_step(oracle_episodes, tmp_path):
    ep = read(oracle_episodes[0])
    actions = ep.actions.copy()
    k = len(ep) // 2
    actions[k] = 3 if actions[k] != 3 else 2  # turn the other way than recorded
    tampered = write(dataclasses.replace(ep, actions=actions, frames={}), tmp_path / "tampered.episode")
    with pytest.raises(ReplayDivergence, match=rf"tampered\.episode: step {k}: reward"):
        replay(tampered, tmp_path / "t.mp4")
    assert not (tmp_path / "t.mp4").exists()  # no half-written video left behind
    spec = dict(ep.spec, start_heading=(ep.spec["start_heading"] + 1) % 12)
    moved = write(dataclasses.replace(ep, spec=spec, frames={}), tmp_path / "moved.episode")
    with pytest.raises(ReplayDivergence, match="step 0"):
        replay(moved, tmp_path / "m.mp4")
    replay(moved, tmp_path / "m.mp4", verify=False)  # on request, it still renders what the actions do


def test_attention_is_drawn_on_the_map(oracle_episodes, tmp_path):
    ep = read(oracle_episodes[0])
    n = len(ep)
    pos = np.zeros((n, 4, 2), np.float32)
    mass = np.zeros((n, 4), np.float32)
    pos[:, 0] = ep.poses[0, :2]  # every step attends to the start
    mass[:, 0] = 0.8
    ep = dataclasses.replace(ep, attention_pos=pos, attention_mass=mass)
    size = 128
    on = _fresh_frames(ep, size)[-1]
    off = _fresh_frames(dataclasses.replace(ep, attention_pos=None, attention_mass=None), size)[-1]
    diff = np.any(on != off, axis=-1)
    ys, xs = np.nonzero(diff)
    assert diff[:, :2 * size].sum() == 0 and len(xs) > 10  # only the map panel changes
    env_xy = np.array([xs.mean() - 2 * size, ys.mean()])
    from envs.house import from_spec

    env = from_spec(ep.spec)
    env.reset()
    start_px = env.world_to_map(0, ep.poses[0, :2], size)
    assert np.linalg.norm(env_xy - start_px) < 3  # ... around the attended position


def test_replay_command_writes_videos_and_gallery(oracle_episodes, tmp_path, capsys):
    folder = oracle_episodes[0].parent
    assert cli(["replay", str(folder), "--out", str(tmp_path / "out"), "size=64", "preset=ultrafast"]) == 0
    videos = sorted((tmp_path / "out").glob("*.mp4"))
    assert [v.stem for v in videos] == sorted(p.stem for p in oracle_episodes)
    html = (tmp_path / "out" / "index.html").read_text()
    assert all(f'src="{v.name}"' in html for v in videos)
    bad = tmp_path / "bad.episode"
    bad.write_bytes(b"not an episode")
    assert cli(["replay", str(bad), str(oracle_episodes[0]), "--out", str(tmp_path / "o2")]) == 1
    assert "bad.episode: not an embodied episode file" in capsys.readouterr().err
    assert cli(["replay", str(oracle_episodes[0]), "--out", str(tmp_path / "o3"), "size=33"]) == 2
    assert "size=33 is invalid" in capsys.readouterr().err
