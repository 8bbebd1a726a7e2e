"""``trainer.overlap_updates``: each update runs in a background thread while the next U steps are acted with the
weights from before it; the full update at T runs beside the next trial on a second buffer; stops, saves and
errors wait for it."""
from __future__ import annotations

import os
import sys
import threading

import line_env
import pytest
import torch
from helpers import CONFIGS, line_train_cfg
from omegaconf import OmegaConf

from embodied.commands.train import validate
from embodied.config import ConfigError, load
from embodied.learner import checkpoint
from embodied.learner.background import BackgroundUpdate, overlap_updates
from embodied.learner.ppo import PPOLearner
from embodied.learner.trainer import Trainer, TrainingFailed, learner_threads

T, U = 32, 8  # four updates per rollout


def trainer(tmp_path, **overrides) -> Trainer:
    cfg = line_train_cfg(**{"overlap_updates": True, "rollout_steps": T, "update_every": U, **overrides})
    return Trainer(cfg, tmp_path / "run", remote=False, progress=False, tensorboard=False, env_factory=line_env.make)


def flat(module: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten().clone() for p in module.parameters()])


def test_the_background_update_hands_back_its_result_or_its_error():
    bg = BackgroundUpdate()
    assert bg.wait() is None and not bg.running
    gate = threading.Event()
    bg.start(lambda: (gate.wait(5), os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))[1], tag="first")
    with pytest.raises(RuntimeError, match="already running"):
        bg.start(lambda: None)
    gate.set()
    priority = bg.wait()
    if sys.platform.startswith("linux"):
        assert priority == 19  # the update yields the cores to collection
    assert not bg.running and bg.tag == "first"

    def fail():
        raise FloatingPointError("loss is nan")

    bg.start(fail)
    with pytest.raises(FloatingPointError, match="loss is nan"):
        bg.wait()
    assert not bg.running and bg.wait() is None


def test_acting_runs_one_update_behind_the_learner(tmp_path):
    t = trainer(tmp_path)
    acted: list[tuple[int, int, torch.Tensor]] = []  # (rollout, step, the actor's weights)
    learnt = [flat(t.policy)]  # the weights after each update, in order
    act, finish = t._act, t._finish_update

    def record_act(half, step):
        acted.append((t.counters["rollouts"], step, flat(t.learner.actor)))
        return act(half, step)

    def record_finish():
        running = t.background.running
        stats = finish()
        if running:
            learnt.append(flat(t.policy))
        return stats

    t._act, t._finish_update = record_act, record_finish
    try:
        assert t.rollout() and t.rollout()
        t.save()
    finally:
        t.close()
    assert len(learnt) == 1 + 2 * (T // U)
    assert all(not torch.equal(a, b) for a, b in zip(learnt, learnt[1:]))  # every update changed the weights
    for rollout, step, weights in acted:
        chunk = rollout * (T // U) + step // U  # steps [chunk U, chunk U + U) of the run
        # chunks 0 and 1 act with the initial weights; chunk c >= 2 with the weights after update c - 1
        assert torch.equal(weights, learnt[max(0, chunk - 1)]), (rollout, step)
    assert torch.equal(flat(t.learner.actor), flat(t.policy))


def test_the_full_update_trains_on_its_trial_while_the_next_fills_the_other_buffer(tmp_path):
    t = trainer(tmp_path)
    try:
        first = t.buffer
        assert t.rollout()
        assert t.background.running and t.background.tag == (first, T)  # the full update at T
        assert t.buffer is not first and t.counters["updates"] == T // U
        actions = first.action.clone()
        assert t.rollout()  # trial 2 filled the other buffer, and its full update now trains on that one
        second = t.background.tag[0]
        assert second is not first and t.buffer is first
        assert torch.equal(first.action, actions) and not torch.equal(second.action, actions)
        path = t.save()
        assert not t.background.running
    finally:
        t.close()
    saved = checkpoint.read(path)["policy"]
    assert all(torch.equal(saved[k], v) for k, v in t.policy.state_dict().items())
    assert torch.equal(flat(t.learner.actor), flat(t.policy))


def test_a_stop_request_waits_for_the_running_update(tmp_path):
    t = trainer(tmp_path, total_steps=10_000)
    receive, calls = t._receive, [0]

    def receive_then_stop(half, step):
        calls[0] += 1
        if calls[0] == T + U + 3:  # a few steps into rollout 2's second chunk
            t.stop_requested = True
        return receive(half, step)

    t._receive = receive_then_stop
    try:
        result = t.train()
    finally:
        t.close()
    assert result["interrupted"] and not t.background.running
    data = checkpoint.read(checkpoint.resolve(tmp_path / "run"))
    # rollout 1's four updates and rollout 2's first: all finished before the save; the steps after it dropped
    assert data["counters"]["updates"] == T // U + 1 and data["counters"]["env_steps"] == 4 * (T + U)
    assert all(torch.equal(data["policy"][k], v) for k, v in t.policy.state_dict().items())


def test_an_error_in_the_background_update_saves_the_weights_from_before_it(tmp_path, monkeypatch):
    update, calls, before, after = PPOLearner.update, [0], {}, {}

    def update_then_fail(self, *args):
        calls[0] += 1
        if calls[0] < 3:
            return update(self, *args)
        before.update({k: v.clone() for k, v in self.policy.state_dict().items()})
        update(self, *args)  # the weights change, then the update fails
        after.update({k: v.clone() for k, v in self.policy.state_dict().items()})
        assert threading.current_thread() is not threading.main_thread()
        raise FloatingPointError("loss is nan")

    monkeypatch.setattr(PPOLearner, "update", update_then_fail)
    t = trainer(tmp_path, total_steps=10_000)
    try:
        with pytest.raises(TrainingFailed, match="FloatingPointError: loss is nan; emergency checkpoint"):
            t.train()
    finally:
        t.close()
    assert calls[0] == 3
    saved = checkpoint.read(checkpoint.resolve(tmp_path / "run"))["policy"]
    assert all(torch.equal(saved[k], before[k]) for k in before)
    assert any(not torch.equal(saved[k], after[k]) for k in after)


def test_acting_leaves_a_core_to_the_update_thread():
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert learner_threads("auto", {"mode": "local", "num_workers": 1}, beside=True) == max(1, cores - 2)
    assert learner_threads("auto", {"mode": "inprocess"}, beside=True) == max(1, cores - 1)
    assert learner_threads(3, {"mode": "inprocess"}, beside=True) == 3


def test_auto_overlaps_unless_the_encoder_trains(tmp_path):
    assert overlap_updates("auto", trained_encoder=False) and not overlap_updates("auto", trained_encoder=True)
    assert overlap_updates(True, trained_encoder=True) and not overlap_updates(False, trained_encoder=False)
    assert load("train", []).trainer.overlap_updates == "auto"  # the house default
    for size, overlaps in ((6, True), (8, False)):  # 8 px frames go through the tiny policy's trained CNN
        cfg = line_train_cfg(overlap_updates="auto")
        cfg.env.size = size
        t = Trainer(cfg, tmp_path / f"run{size}", remote=False, progress=False, tensorboard=False,
                    env_factory=line_env.make)
        try:
            assert (t.policy.encoder is not None) is not overlaps
            assert (t.background is not None) is overlaps and (t.learner.actor is not t.policy) is overlaps
        finally:
            t.close()


@pytest.mark.parametrize("value", ["sometimes", 1])
def test_a_bad_value_is_a_config_error(value):
    with pytest.raises(ConfigError, match="trainer.overlap_updates.*true, false or auto"):
        validate(load("train", [f"trainer.overlap_updates={value}"]))


def test_a_transformer_acts_on_its_cache_without_the_bootstraps_in_it(tmp_path):
    """No refresh between updates: acting keeps its KV cache for the whole trial, so the value bootstraps at the
    update boundaries must not leave steps in it."""
    policy = OmegaConf.to_container(OmegaConf.load(CONFIGS / "policy" / "relic_small.yaml"))
    policy.update(d_model=16, layers=1, heads=2, head_dim=8, mlp_hidden=32, max_episode_steps=8)
    policy["encoder"].update(feature_dim=8, channels=[4, 4])
    cfg = line_train_cfg(overlap_updates=True, rollout_steps=T, update_every=U)
    cfg.policy = OmegaConf.create(policy)
    t = Trainer(cfg, tmp_path / "run", remote=False, progress=False, tensorboard=False, env_factory=line_env.make)
    try:
        assert t.rollout() and t.rollout()  # a bootstrap kept in the cache would overflow it (T + 1 slots)
        assert all(int(s.lengths.min()) == int(s.lengths.max()) == T for s in t._states)
    finally:
        t.close()
