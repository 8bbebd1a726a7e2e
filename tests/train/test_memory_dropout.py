"""``trainer.memory_dropout``: trials drawn per env and rollout run with their memory cut, the same way when
acting and when the learner recomputes them; the key is validated."""
from __future__ import annotations

import line_env
import pytest
import torch
from helpers import line_train_cfg

from embodied.commands.train import validate
from embodied.config import ConfigError, load
from embodied.learner.trainer import Trainer
from embodied.policy.interface import MEMORY_CUT_KEY


def test_the_learner_sees_each_trial_with_the_memory_it_was_acted_with(tmp_path):
    cfg = line_train_cfg(memory_dropout=0.5, num_envs=8, minibatches=2)
    t = Trainer(cfg, tmp_path / "run", remote=False, progress=False, tensorboard=False, env_factory=line_env.make)
    try:
        assert t.rollout()  # with partial updates: episodes shuffled, states refreshed
        cut = t.buffer.obs[MEMORY_CUT_KEY]
        assert torch.equal(cut, cut[:, :1].expand_as(cut))  # one draw per env and trial
        assert t.rollout(learn=False)  # fixed weights: what was acted is what the learner must recompute
    finally:
        t.close()
    buf, policy = t.buffer, t.policy
    cut = buf.obs[MEMORY_CUT_KEY][:, 0]
    assert cut.any() and not cut.all()
    inputs = buf.inputs(buf.capacity)
    with torch.no_grad():
        logits, values = policy(inputs)
        _, uncut = policy({k: v for k, v in inputs.items() if k != MEMORY_CUT_KEY})
    logp = torch.log_softmax(logits, -1).gather(-1, buf.action.unsqueeze(-1)).squeeze(-1)
    torch.testing.assert_close(logp, buf.logprob, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(values, buf.value, atol=1e-5, rtol=1e-5)
    # the test could fail: the cut trials would have been valued otherwise with their memory
    assert (uncut[cut] - buf.value[cut]).abs().max() > 1e-4
    torch.testing.assert_close(uncut[~cut], buf.value[~cut], atol=1e-5, rtol=1e-5)


def test_without_dropout_no_trial_is_marked(tmp_path):
    t = Trainer(line_train_cfg(), tmp_path / "run", remote=False, progress=False, tensorboard=False,
                env_factory=line_env.make)
    try:
        assert t.rollout(learn=False)
    finally:
        t.close()
    assert MEMORY_CUT_KEY not in t.buffer.obs and MEMORY_CUT_KEY not in t._pending[0]


@pytest.mark.parametrize("value,match", [(1.0, r"memory_dropout=1.0.*\[0, 1\)"), (-0.1, r"\[0, 1\)"),
                                         ("half", r"trainer.memory_dropout=half")])
def test_bad_dropout_is_a_config_error(value, match):
    with pytest.raises(ConfigError, match=match):
        validate(load("train", [f"trainer.memory_dropout={value}"]))


def test_dropout_needs_a_memory_to_cut():
    with pytest.raises(ConfigError, match="trainer.memory_dropout.*policy.inter_episode=false"):
        validate(load("train", ["trainer.memory_dropout=0.5", "policy.inter_episode=false"]))
    validate(load("train", ["trainer.memory_dropout=0.5"]))
    validate(load("train", ["trainer.memory_dropout=0.5", "policy=relic_small"]))
