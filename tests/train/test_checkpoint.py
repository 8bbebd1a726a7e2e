"""Checkpoints: atomic and complete; resume restores counters and weights; bad files are rejected, untouched."""
from __future__ import annotations

import os
import signal
import threading

import line_env
import numpy as np
import pytest
import torch
from helpers import line_train_cfg

from embodied.commands.train import prepare
from embodied.config import ConfigError
from embodied.learner import checkpoint
from embodied.learner.schedule import warmup_cosine
from embodied.learner.trainer import Trainer


def trainer(tmp_path, resume=None, **over):
    return Trainer(line_train_cfg(**over), tmp_path / "run", remote=False, resume=resume, progress=False,
                   tensorboard=False, env_factory=line_env.make)


def same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ckpt")
    t = trainer(tmp, total_steps=128)
    t.train()
    t.close()
    return tmp / "run"


def test_checkpoint_holds_what_resuming_needs(run_dir):
    data = checkpoint.read(checkpoint.latest(run_dir))
    assert data["format"] == checkpoint.FORMAT and data["version"] == checkpoint.VERSION
    assert data["counters"]["env_steps"] == 128 and data["counters"]["rollouts"] == 2
    assert data["counters"]["updates"] == 4
    assert data["config"]["trainer"]["rollout_steps"] == 16
    assert {"torch", "sampler", "numpy", "python"} <= set(data["rng"])
    assert data["optimizer"]["state"]  # Adam moments, not a fresh optimiser
    assert not [p for p in (run_dir / "checkpoints").iterdir() if p.name.startswith(".")]  # no temp left


def test_load_policy_for_evaluation(run_dir):
    policy, cfg = checkpoint.load_policy(run_dir)
    data = checkpoint.read(checkpoint.latest(run_dir))
    assert same_weights(policy.state_dict(), data["policy"])
    assert cfg.policy.name == "gru" and not policy.training


def test_ctrl_c_saves_and_resume_continues_from_the_same_state(tmp_path):
    t = trainer(tmp_path, total_steps=10_000)
    timer = threading.Timer(3.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    result = t.train()
    timer.cancel()
    t.close()
    assert result["interrupted"] and 0 < t.counters["env_steps"] < 10_000
    # only the steps that updates trained on are counted: those of a half-collected window are discarded
    assert t.counters["env_steps"] == t.counters["updates"] * t.U * t.collector.num_envs
    data = checkpoint.read(checkpoint.latest(tmp_path / "run"))
    assert data["counters"] == t.counters
    resumed = trainer(tmp_path, resume=data, total_steps=10_000)
    assert resumed.counters == t.counters
    assert same_weights(resumed.policy.state_dict(), t.policy.state_dict())
    assert resumed.learner.scheduler.last_epoch == t.learner.scheduler.last_epoch
    assert torch.equal(resumed.sampler.get_state(), t.sampler.get_state())
    before = dict(resumed.counters)
    resumed.cfg.trainer.total_steps = before["env_steps"] + 64
    resumed.train()
    resumed.close()
    assert resumed.counters["env_steps"] >= before["env_steps"] + 64
    assert resumed.counters["updates"] > before["updates"]


def test_resume_takes_the_lr_schedule_from_the_config_and_the_position_from_the_checkpoint(tmp_path, run_dir):
    data = checkpoint.read(checkpoint.latest(run_dir))
    saved_lr = data["optimizer"]["param_groups"][0]["lr"]
    same = trainer(tmp_path / "same", resume=data, total_steps=128)
    assert same.learner.optimizer.param_groups[0]["lr"] == pytest.approx(saved_lr)  # nothing changed: no jump
    same.close()
    lr, total = 3e-4, 1024
    t = trainer(tmp_path / "new", resume=data, total_steps=total, lr=lr)
    sched = t.learner.scheduler
    assert sched.last_epoch == data["scheduler"]["last_epoch"] and sched.base_lrs == [lr]
    updates = total // (t.U * t.collector.num_envs)  # one optimiser step per update (1 epoch x 1 minibatch)
    expected = lr * warmup_cosine(sched.last_epoch, int(t.cfg.trainer.warmup_updates), updates,
                                  float(t.cfg.trainer.lr_floor))
    assert t.learner.optimizer.param_groups[0]["lr"] == pytest.approx(expected)
    assert abs(expected - saved_lr) > 1e-5  # the override is visible, not equal to the saved value by chance
    t.cfg.trainer.total_steps = data["counters"]["env_steps"] + 64
    t.train()
    t.close()
    step = sched.last_epoch
    assert t.learner.optimizer.param_groups[0]["lr"] == pytest.approx(
        lr * warmup_cosine(step, int(t.cfg.trainer.warmup_updates), updates, float(t.cfg.trainer.lr_floor)))


def test_truncated_checkpoint_is_rejected_and_not_overwritten(tmp_path, run_dir):
    src = checkpoint.latest(run_dir).read_bytes()
    folder = tmp_path / "run" / "checkpoints"
    folder.mkdir(parents=True)
    bad = folder / checkpoint.latest(run_dir).name
    bad.write_bytes(src[: len(src) // 2])
    with pytest.raises(checkpoint.CheckpointError, match="truncated"):
        checkpoint.read(bad)
    cfg = line_train_cfg()
    cfg.resume = str(tmp_path / "run")
    with pytest.raises(checkpoint.CheckpointError, match=bad.name):
        prepare(cfg)
    payload = {k: v for k, v in checkpoint.read(checkpoint.latest(run_dir)).items() if k not in ("format", "version")}
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.save(tmp_path / "run", payload)  # same env_steps: would replace the bad file
    assert bad.read_bytes() == src[: len(src) // 2]
    assert [p.name for p in folder.iterdir()] == [bad.name]


@pytest.mark.parametrize("content", ["foreign_torch", "text", "old_version"])
def test_foreign_checkpoints_are_rejected(tmp_path, run_dir, content):
    path = tmp_path / "ckpt-000000000001.pt"
    if content == "foreign_torch":
        torch.save({"model": torch.zeros(3)}, path)
        match = "not an embodied training checkpoint"
    elif content == "text":
        path.write_text("hello")
        match = "not a readable checkpoint"
    else:
        data = checkpoint.read(checkpoint.latest(run_dir))
        data["version"] = 99
        torch.save(data, path)
        match = "version 99"
    with pytest.raises(checkpoint.CheckpointError, match=match):
        checkpoint.load_policy(path)


def test_every_readable_space_round_trips_through_a_checkpoint(tmp_path):
    import gymnasium

    from embodied.learner import checkpoint

    spaces = {"a": gymnasium.spaces.Discrete(5, start=2), "b": gymnasium.spaces.MultiDiscrete([3, 7]),
              "c": gymnasium.spaces.MultiBinary(4), "d": gymnasium.spaces.Box(0, 255, (2, 2, 3), np.uint8),
              "e": gymnasium.spaces.Box(-1.5, 2.5, (3,), np.float32)}
    torch.save(checkpoint.spaces_to_spec(spaces), tmp_path / "s.pt")
    back = checkpoint.spaces_from_spec(torch.load(tmp_path / "s.pt", weights_only=True))
    assert back == spaces
    with pytest.raises(TypeError, match="'t' of type Text cannot be stored"):
        checkpoint.spaces_to_spec({"t": gymnasium.spaces.Text(3)})


def test_init_from_starts_a_new_run_from_another_runs_weights(tmp_path, run_dir):
    cfg = line_train_cfg(total_steps=64)
    cfg.init_from = str(run_dir)
    t = Trainer(cfg, tmp_path / "run", remote=False, progress=False, tensorboard=False, env_factory=line_env.make)
    source = checkpoint.read(checkpoint.latest(run_dir))
    assert same_weights(t.policy.state_dict(), source["policy"])
    assert t.counters["env_steps"] == 0 and not t.learner.optimizer.state  # a new run: fresh counters and Adam
    t.train()
    t.close()
    assert not same_weights(t.policy.state_dict(), source["policy"])  # and it trains on from there
    assert checkpoint.read(checkpoint.latest(tmp_path / "run"))["counters"]["env_steps"] == 64


def test_init_from_weights_of_another_shape_fail_before_the_run_starts(tmp_path, run_dir):
    cfg = line_train_cfg()
    cfg.runs_dir = str(tmp_path / "runs")
    cfg.policy.hidden = 2 * cfg.policy.hidden
    cfg.init_from = str(run_dir)
    with pytest.raises(checkpoint.CheckpointError, match="(?s)weights do not fit policy .gru.*size mismatch"):
        prepare(cfg)
    cfg.init_from = str(tmp_path / "nowhere.pt")
    with pytest.raises(checkpoint.CheckpointError, match="nowhere.pt does not exist"):
        prepare(cfg)
    cfg.init_from, cfg.resume = str(run_dir), str(run_dir)
    with pytest.raises(ConfigError, match="give one of them"):
        prepare(cfg)
    assert not (tmp_path / "runs").exists()


def test_init_from_a_memoryless_run_starts_an_episodic_core_as_that_run(tmp_path, run_dir):
    """``policy.episodic_core`` on top of a run without one: its weights, and the memory path at its zero-output
    init; any other key missing or left over still fails, naming it."""
    cfg = line_train_cfg(total_steps=64)
    cfg.policy.episodic_core = True
    cfg.init_from = str(run_dir)
    t = Trainer(cfg, tmp_path / "run", remote=False, progress=False, tensorboard=False, env_factory=line_env.make)
    source = checkpoint.read(checkpoint.latest(run_dir))["policy"]
    weights = t.policy.state_dict()
    t.close()
    assert set(weights) - set(source) == t.policy.memory_parameters() != set()
    assert all(torch.equal(weights[k], source[k]) for k in source)
    assert not weights["memory_out.weight"].any()
    data = checkpoint.read(checkpoint.latest(run_dir))
    data["policy"]["memory_out.weight"] = weights["memory_out.weight"]
    torch.save(data, tmp_path / "with_memory.pt")
    with pytest.raises(checkpoint.CheckpointError, match=r"unexpected keys \['memory_out.weight'\]"):
        checkpoint.initial_weights(tmp_path / "with_memory.pt", line_train_cfg().policy)
    del data["policy"]["memory_out.weight"], data["policy"]["actor.bias"]
    torch.save(data, tmp_path / "no_bias.pt")
    with pytest.raises(checkpoint.CheckpointError, match=r"missing keys \['actor.bias'\]"):
        checkpoint.initial_weights(tmp_path / "no_bias.pt", cfg.policy)


def test_init_from_a_run_of_another_policy_kind_says_which(tmp_path, run_dir):
    cfg = line_train_cfg()
    cfg.policy.name = "transformer"
    cfg.init_from = str(run_dir)
    with pytest.raises(checkpoint.CheckpointError, match="holds a 'gru' policy; this run builds 'transformer'"):
        checkpoint.initial_weights(cfg.init_from, cfg.policy)


def test_a_checkpoint_from_before_the_cell_key_loads_as_a_gru(tmp_path, run_dir):
    data = checkpoint.read(checkpoint.latest(run_dir))
    del data["config"]["policy"]["cell"]
    old = tmp_path / "ckpt-000000000128.pt"
    torch.save(data, old)
    policy, cfg = checkpoint.load_policy(old)
    assert cfg.policy.cell == "gru" and hasattr(policy, "gru")
    assert same_weights(policy.state_dict(), data["policy"])
