"""The recall loss: the teacher's memory of the goal rides beside the observations, is right, and trains a head."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import filled_buffer, line_train_cfg

from embodied.commands.train import validate
from embodied.config import ConfigError, load
from embodied.learner.ppo import PPOHyper, PPOLearner
from embodied.learner.trainer import Trainer
from embodied.rollout.transforms import RECALL_KEY, Teacher
from embodied.rollout.worker import EnvWorker
from envs.house.explorer import RECALL_SCALE
from envs.house.geometry import COS, SIN


def test_the_recall_label_points_at_the_nearest_goal_instance_the_teacher_has_seen():
    env_cfg = {"name": "house", "num_envs": 4, "resolution": 16, "max_steps": 40, "episodes_per_trial": 8}
    worker = EnvWorker(env_cfg, [5], teacher=Teacher("explorer_memory", recall=True))
    env, explorer = worker.envs[0], worker.transforms.teachers[0]
    rng = np.random.default_rng(1)
    obs = worker.reset(0, 5)
    valid_steps = 0
    for _ in range(200):
        label, w = obs[RECALL_KEY], env.world()
        for n in range(env.num_envs):
            nobj = int(w["nobj"][n])
            seen = [i for i in range(nobj) if explorer._seen[n, i] and int(w["objects"][n, i, 2]) == w["goal"][n]]
            if not seen:
                assert np.all(label[n] == 0)
                continue
            valid_steps += 1
            assert label[n, 0] == 1
            k = int(w["heading"][n])
            ahead, across = label[n, 1:] * RECALL_SCALE
            target = w["pos"][n] + ahead * np.array([COS[k], SIN[k]]) + across * np.array([-SIN[k], COS[k]])
            distances = [np.hypot(*(w["objects"][n, i, :2] - w["pos"][n])) for i in seen]
            assert np.allclose(target, w["objects"][n, seen[int(np.argmin(distances))], :2], atol=1e-4)
        # explore with the teacher's own actions, now and then a random one
        action = worker.envs[0].random_action(rng) if rng.random() < 0.3 else obs["oracle_action"]
        obs, *_ = worker.step(0, action)
    assert valid_steps > 100  # the goal is often in the map: the check above ran


def test_a_teacher_without_memory_cannot_recall():
    with pytest.raises(ValueError, match="no memory to recall"):
        EnvWorker({"name": "house", "num_envs": 1, "resolution": 16}, [0], teacher=Teacher("oracle", recall=True))


def test_recall_labels_move_with_their_steps_when_episodes_are_shuffled():
    _, _, _, buf, _, _ = filled_buffer(num_envs=6, capacity=24, stop=24)
    buf.recall[:, :24, 0] = 1.0
    buf.recall[:, :24, 1] = buf.action[:, :24].float()
    buf.recall[:, :24, 2] = buf.reward[:, :24]
    buf.shuffle_episodes(24, np.random.default_rng(0))
    assert torch.equal(buf.recall[:, :24, 1], buf.action[:, :24].float())
    assert torch.equal(buf.recall[:, :24, 2], buf.reward[:, :24])


def recall_losses(coef: float, updates: int = 30) -> list[float]:
    """Recall-loss stats over repeated full updates of one buffer whose labels (on half the steps) are the
    agent's GPS 3 steps earlier: something only the recurrent state can hold."""
    env, policy, learner, buf, _, _ = filled_buffer(num_envs=8, capacity=16, stop=16)
    learner = PPOLearner(policy, PPOHyper(epochs=2, minibatches=2, lr=1e-2, warmup_updates=0, recall_coef=coef), 17)
    pos = buf.obs["gps"][:, :16, 0]
    earlier = torch.cat([torch.zeros_like(pos[:, :3]), pos[:, :-3]], 1)
    buf.recall[:, :16, 0] = (torch.arange(16) % 2 == 0).float()
    buf.recall[:, :16, 1] = earlier / 5
    buf.recall[:, :16, 2] = -earlier / 5
    return [learner.update(buf, 0, 16, torch.zeros(8))["recall_loss"] for _ in range(updates)]


def test_the_recall_head_learns_what_the_state_must_remember():
    losses = recall_losses(coef=1.0)
    assert np.mean(losses[-5:]) < 0.3 * np.mean(losses[:3])


def test_no_recall_head_without_its_weight():
    _, policy, learner, buf, _, _ = filled_buffer()
    assert learner.recall is None and "recall_loss" not in learner.update(buf, 0, 12, torch.zeros(4))


def test_recall_config_needs_a_teacher_with_a_memory():
    with pytest.raises(ConfigError, match="trainer.recall_coef"):
        validate(load("train", ["trainer.recall_coef=1.0"]))  # no teacher at all
    with pytest.raises(ConfigError, match="trainer.recall_coef"):
        validate(load("train", ["trainer.recall_coef=1.0", "trainer.imitation_coef=1.0"]))  # the oracle: no memory
    with pytest.raises(ConfigError, match="trainer.recall_coef=-1"):
        validate(load("train", ["trainer.recall_coef=-1"]))
    validate(load("train", ["trainer.recall_coef=1.0", "trainer.imitation_coef=1.0",
                            "trainer.imitation_teacher=explorer_memory"]))


def house_trainer(tmp_path, resume=None, **trainer):
    cfg = line_train_cfg(imitation_coef=1.0, imitation_teacher="explorer_memory", **trainer)
    cfg.env = {"name": "house", "resolution": 16, "max_steps": 8}
    return Trainer(cfg, tmp_path / "run", remote=False, resume=resume, progress=False, tensorboard=False)


def test_the_head_is_checkpointed_and_a_run_without_one_resumes_with_a_new_one(tmp_path):
    t = house_trainer(tmp_path, recall_coef=1.0)
    try:
        assert t.rollout()
        assert float(t.buffer.recall[..., 0].max()) == 1.0  # the teacher saw a goal: labels reached the buffer
        state = t.state()
    finally:
        t.close()
    lr = 0.5 * float(state["config"]["trainer"]["lr"])
    again = house_trainer(tmp_path / "again", resume=state, recall_coef=1.0, lr=lr)
    try:
        for name, value in state["recall"]["head"].items():
            assert torch.equal(again.learner.recall.state_dict()[name], value)
        assert again.learner.recall_optimizer.state_dict()["state"]  # Adam's moments came back too
        assert [g["lr"] for g in again.learner.recall_optimizer.param_groups] == [lr]  # the resumed run's LR
    finally:
        again.close()
    plain = house_trainer(tmp_path / "plain")
    try:
        assert plain.rollout()
        state = plain.state()
    finally:
        plain.close()
    assert "recall" not in state
    resumed = house_trainer(tmp_path / "resumed", resume=state, recall_coef=1.0)
    try:
        assert resumed.rollout() and resumed.learner.recall is not None
    finally:
        resumed.close()
