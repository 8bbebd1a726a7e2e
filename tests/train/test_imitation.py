"""The imitation term: a teacher's labels ride beside the observations, never into the policy, and teach."""
from __future__ import annotations

from dataclasses import replace

import line_env
import numpy as np
import pytest
import torch
from helpers import filled_buffer, line_train_cfg

from embodied.commands.train import validate
from embodied.config import ConfigError, load
from embodied.learner.ppo import imitation_loss
from embodied.learner.trainer import Trainer, imitation_weight
from embodied.rollout.transforms import ORACLE_KEY, WEIGHT_KEY, Teacher
from embodied.rollout.worker import EnvWorker


def test_unlabelled_steps_do_not_count():
    logits = torch.tensor([[[5.0, 0.0], [0.0, 5.0], [0.0, 0.0]]], requires_grad=True)
    loss = imitation_loss(logits, torch.tensor([[0, -1, 1]]))
    expected = (torch.nn.functional.cross_entropy(logits[0, [0, 2]], torch.tensor([0, 1])))
    assert torch.allclose(loss, expected)
    loss.backward()
    assert torch.all(logits.grad[0, 1] == 0)
    assert imitation_loss(logits, torch.full((1, 3), -1)).item() == 0


def test_trainer_records_oracle_labels_beside_the_observations(tmp_path):
    cfg = line_train_cfg(imitation_coef=1.0)
    t = Trainer(cfg, tmp_path / "run", remote=False, progress=False, tensorboard=False, env_factory=line_env.make)
    try:
        assert t.rollout()
    finally:
        t.close()
    assert "oracle_action" not in t._pending[0]  # never a policy input
    buf = t.buffer
    hint = buf.obs["goal"].argmax(-1)  # 0: target left, 1: here, 2: right
    assert torch.equal(buf.oracle, torch.tensor([1, 0, 2])[hint])  # the oracle's action for each step's state


def test_imitation_term_teaches_the_oracle_actions():
    _, policy, learner, buf, _, _ = filled_buffer(num_envs=8, capacity=16, stop=16)
    hint = buf.obs["goal"].argmax(-1)
    buf.oracle[:] = torch.tensor([1, 0, 2])[hint]
    learner.hp = replace(learner.hp, imitation_coef=1.0, entropy_coef=0.0, lr=1e-2, max_grad_norm=1.0)

    def agreement():
        with torch.no_grad():
            return float((policy(buf.inputs(16))[0].argmax(-1) == buf.oracle).float().mean())

    before = agreement()
    for _ in range(15):
        stats = learner.update(buf, 0, 16, torch.zeros(8))
    assert agreement() > max(0.9, before + 0.2)
    assert stats["imitation_loss"] < 0.5


def test_weighted_labels_count_by_their_weight():
    logits = torch.randn(1, 4, 3)
    oracle = torch.tensor([[0, 2, -1, 1]])
    ce = torch.nn.functional.cross_entropy(logits[0, [0, 1, 3]], torch.tensor([0, 2, 1]), reduction="none")
    weight = torch.tensor([[1.0, 5.0, 9.0, 1.0]])  # the unlabelled step's weight does not count
    assert torch.allclose(imitation_loss(logits, oracle, weight), (ce * torch.tensor([1.0, 5.0, 1.0])).sum() / 7)
    assert torch.allclose(imitation_loss(logits, oracle, torch.ones(1, 4)), imitation_loss(logits, oracle))


def labels_along(teacher: str | Teacher, steps: int = 240, weights: list | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A house worker labelled by ``teacher``, driven by the same seeded random actions whatever the teacher:
    (labels, the env's shortest-path oracle actions, episode index) per step and env; each step's label
    weights go to ``weights`` when given."""
    env_cfg = {"name": "house", "num_envs": 4, "resolution": 16, "max_steps": 30, "episodes_per_trial": 8}
    worker = EnvWorker(env_cfg, [11], teacher=teacher)
    rng = np.random.default_rng(0)
    obs = worker.reset(0, 11)
    labels, oracle, episode = [], [], []
    for _ in range(steps):
        labels.append(obs[ORACLE_KEY])
        if weights is not None:
            weights.append(obs[WEIGHT_KEY])
        oracle.append(worker.envs[0].oracle_action())
        episode.append(obs["episode_index"].copy())
        obs, *_ = worker.step(0, worker.envs[0].random_action(rng))
    return np.array(labels), np.array(oracle), np.array(episode)


def test_a_teacher_with_memory_labels_from_the_whole_trial():
    memory, oracle, episode = labels_along("explorer_memory")
    forgetful, _, episode_again = labels_along("explorer")
    assert np.array_equal(episode, episode_again)  # the same trajectory under both teachers
    first = episode == 0
    assert np.array_equal(memory[first], forgetful[first])  # one episode seen: the same map
    later = episode > 0
    assert np.mean(memory[later] != forgetful[later]) > 0.05  # later episodes use the earlier ones' map
    # with the map of the whole trial the goal category has been seen more often: the teacher heads straight
    # for it (the shortest-path oracle's action) more often than the forgetful one
    assert np.mean(memory[later] == oracle[later]) > np.mean(forgetful[later] == oracle[later])
    labelled_by_oracle, oracle_again, _ = labels_along("oracle", steps=40)
    assert np.array_equal(labelled_by_oracle, oracle_again)


def test_an_unknown_teacher_is_a_config_error_naming_the_choices():
    cfg = load("train", ["trainer.imitation_coef=1.0", "trainer.imitation_teacher=banana"])
    with pytest.raises(ConfigError, match=r"trainer.imitation_teacher='banana'.*explorer_memory"):
        validate(cfg)
    validate(load("train", ["trainer.imitation_coef=1.0", "trainer.imitation_teacher=explorer_memory"]))
    validate(load("train", ["trainer.imitation_coef=1.0", "trainer.imitation_teacher=replay:explorer_memory"]))
    with pytest.raises(ConfigError, match=r"trainer.imitation_teacher='replay:banana'.*replay:oracle"):
        validate(load("train", ["trainer.imitation_coef=1.0", "trainer.imitation_teacher=replay:banana"]))
    validate(load("train", ["trainer.imitation_coef=1.0", "trainer.imitation_teacher=replay:oracle",
                            "trainer.imitation_focus=4"]))  # the copy's twin is the teacher it wraps


def test_a_focused_teacher_weighs_exactly_the_labels_its_memory_decided():
    weights: list = []
    memory, _, episode = labels_along(Teacher("explorer_memory", focus=4.0), weights=weights)
    forgetful, _, _ = labels_along("explorer")
    weights = np.array(weights)
    assert np.array_equal(weights == 4.0, memory != forgetful) and set(np.unique(weights)) == {1.0, 4.0}
    assert np.all(weights[episode == 0] == 1.0)  # nothing to remember in a trial's first episode


def test_focus_needs_a_teacher_with_a_forgetful_twin():
    cfg = load("train", ["trainer.imitation_coef=1.0", "trainer.imitation_focus=4"])  # the oracle has none
    with pytest.raises(ConfigError, match="trainer.imitation_focus"):
        validate(cfg)
    validate(load("train", ["trainer.imitation_coef=1.0", "trainer.imitation_teacher=explorer_memory",
                            "trainer.imitation_focus=4"]))
    with pytest.raises(ValueError, match="forgetful twin"):
        EnvWorker({"name": "house", "num_envs": 1, "resolution": 16}, [0], teacher=Teacher("oracle", 4.0))


def test_window_loss_reports_the_share_of_focused_labels():
    from embodied.learner.ppo import PPOHyper, window_loss

    logits, values = torch.randn(1, 4, 3), torch.zeros(1, 4)
    zeros = torch.zeros(1, 4)
    oracle, weight = torch.tensor([[0, 2, -1, 1]]), torch.tensor([[1.0, 4.0, 4.0, 4.0]])
    hp = PPOHyper(imitation_coef=1.0)
    _, stats = window_loss(logits, values, torch.zeros(1, 4, dtype=torch.long), zeros, zeros, zeros, 0, 4, hp,
                           oracle, weight)
    assert float(stats["imitation_focus_share"]) == pytest.approx(2 / 3)  # the unlabelled step does not count
    assert float(stats["imitation_loss"]) == pytest.approx(float(imitation_loss(logits, oracle, weight)))


@pytest.mark.parametrize("floor", [0.0, 0.1, 0.5])
def test_the_teacher_weight_decays_linearly_and_holds_at_its_floor(floor):
    rng = np.random.default_rng(int(floor * 10))
    for env_steps in rng.integers(0, 3000, 50):
        linear = 2.0 * (1 - env_steps / 1000)
        expected = linear if linear > floor else floor
        assert imitation_weight(2.0, 1000, floor, int(env_steps)) == pytest.approx(expected)


def test_a_floor_above_the_starting_weight_is_a_config_error():
    with pytest.raises(ConfigError, match=r"trainer.imitation_floor.*\[0, trainer.imitation_coef=0.5\]"):
        validate(load("train", ["trainer.imitation_coef=0.5", "trainer.imitation_floor=0.6"]))
    with pytest.raises(ConfigError, match="trainer.imitation_floor"):
        validate(load("train", ["trainer.imitation_floor=0.1"]))  # no teacher at all (imitation_coef 0)
    validate(load("train", ["trainer.imitation_coef=0.5", "trainer.imitation_floor=0.5"]))
