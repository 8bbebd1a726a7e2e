"""Evaluating a trained checkpoint: a real (tiny, untrained) Sink-KV transformer saved as the trainer does,
evaluated with few-shot demos, its attention recorded and drawn by replay."""
from __future__ import annotations

import json

import numpy as np
import torch
from omegaconf import OmegaConf

import envs
from embodied.cli import main as cli
from embodied.learner import checkpoint
from embodied.policy import build
from embodied.replay.episode_file import find, read
from embodied.replay.video import read_frames



def _save_tiny_transformer(run_dir, resolution=32, **task):
    torch.manual_seed(0)
    pcfg = OmegaConf.load("configs/policy/relic_small.yaml")
    pcfg.d_model, pcfg.layers, pcfg.mlp_hidden = 32, 2, 64
    pcfg.encoder.channels, pcfg.encoder.feature_dim = [4, 8, 8], 16
    env = envs.make("house", num_envs=1, split="train", resolution=resolution, **task)
    policy = build(pcfg, env.obs_space, env.act_space)
    with torch.no_grad():  # uniform actions: short episodes (stop is 1 of 6), keeps the test fast
        policy.actor.weight.zero_()
    spaces = {**{f"obs/{k}": v for k, v in env.obs_space.items()}, **{f"act/{k}": v for k, v in env.act_space.items()}}
    cfg = {"policy": OmegaConf.to_container(pcfg), "env": {"name": "house", "resolution": resolution, **task}}
    return checkpoint.save(run_dir, {"config": cfg, "spaces": checkpoint.spaces_to_spec(spaces),
                                     "policy": policy.state_dict(), "optimizer": {}, "scheduler": {},
                                     "counters": {"env_steps": 1000}, "rng": {}})


def test_checkpoint_eval_with_fewshot_and_attention(tmp_path):
    run = tmp_path / "train-run"
    _save_tiny_transformer(run)
    out = tmp_path / "eval"
    assert cli(["eval", f"policy={run}", "trials=2", "episodes=2", "fewshot=1", "videos=2", "video_size=64",
                "references=none", "cluster=inprocess", f"out={out}"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["agent"] == "train-run" and m["config"]["env"]["resolution"] == 32  # resolution from the checkpoint
    assert m["policies"]["train-run"]["curve"]["success"][0]["mean"] == 1.0  # the oracle's demo episode
    files = find([out / "episodes"])
    assert len(files) == 4
    for f in files:
        ep = read(f)
        if ep.meta["episode_index"] == 0:
            continue
        # The agent's steps carry the attention mass over the trial so far (demo episode included).
        assert ep.attention_mass is not None
        total = ep.attention_mass.sum(1)
        assert np.all(total > 0) and np.all(total <= 1 + 1e-5)
        assert ep.attention_pos.shape == (len(ep), 32, 2)
    frames, info = read_frames(out / m["videos"][0]["video"])
    assert (info["width"], info["height"]) == (192, 88) and len(frames) > 0


def test_a_checkpoint_is_evaluated_on_the_trial_variant_it_trained_on(tmp_path):
    run = tmp_path / "revisit-run"
    _save_tiny_transformer(run, resolution=16, goal_per="trial", gps_frame="trial")
    out = tmp_path / "eval"
    assert cli(["eval", f"policy={run}", "trials=2", "episodes=3", "videos=0", "references=[oracle]", "record=all",
                "cluster=inprocess", f"out={out}"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["config"]["env"] == {"name": "house", "resolution": 16, "goal_per": "trial", "gps_frame": "trial"}
    goals: dict = {}
    for f in find([out / "episodes"]):
        ep = read(f)
        assert ep.spec["gps_frame"] == "trial"
        goals.setdefault((ep.meta["chunk"], ep.meta["env"], ep.meta["trial"]), set()).add(ep.spec["goal"])
    assert len(goals) == 2 and all(len(g) == 1 for g in goals.values())  # one goal per trial


def test_a_checkpoint_that_read_the_goal_position_is_evaluated_with_it(tmp_path):
    run = tmp_path / "goalpos-run"
    _save_tiny_transformer(run, resolution=16, goal_position=True)  # its step token reads goal_gps
    out = tmp_path / "eval"
    assert cli(["eval", f"policy={run}", "trials=1", "episodes=2", "videos=0", "references=none", "record=all",
                "cluster=inprocess", f"out={out}"]) == 0
    assert json.loads((out / "metrics.json").read_text())["config"]["env"]["goal_position"] is True
    assert all(read(f).spec["goal_position"] for f in find([out / "episodes"]))
