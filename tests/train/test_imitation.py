"""The oracle-imitation term: labels ride beside the observations, never into the policy, and teach."""
from __future__ import annotations

from dataclasses import replace

import line_env
import torch
from helpers import filled_buffer, line_train_cfg

from embodied.learner.ppo import imitation_loss
from embodied.learner.trainer import Trainer


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
