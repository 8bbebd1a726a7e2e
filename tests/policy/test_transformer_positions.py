"""``policy.positions``: RoPE over the episode index, or none. Without positions nothing the transformer computes
depends on how many episodes came before, so a trial longer than training's shows it no unseen position."""
from __future__ import annotations

import pytest
import torch
from policy_inputs import at, small_policy, trial_batch

from embodied.config import ConfigError
from embodied.learner.checkpoint import config_of


@pytest.mark.parametrize("overrides", [{"episodic_core": True}, {"inter_episode": False}], ids=["episodic_core", "control"])
def test_without_positions_outputs_do_not_depend_on_the_episode_index(overrides, seed):
    inputs = trial_batch(3, 36, seed, max_episode=6)
    far = {**inputs, "episode_index": inputs["episode_index"] * 7 + 40}  # as if deep into a long trial
    nope = small_policy(seed, positions="none", **overrides)
    rope = small_policy(seed, **overrides)  # the same weights, with RoPE
    with torch.no_grad():
        logits, values = nope(inputs)
        far_logits, far_values = nope(far)
        torch.testing.assert_close(far_logits, logits)
        torch.testing.assert_close(far_values, values)
        state = nope.initial_state(3, 40)
        for i in range(36):
            step_logits, _, state = nope.step(at(far, i), state)
            torch.testing.assert_close(step_logits, logits[:, i], atol=1e-4, rtol=1e-4)
        # with RoPE the relabelling shows, even within one episode: rotated queries meet the unrotated sink key
        assert float((rope(far)[0] - rope(inputs)[0]).abs().max()) > 1e-3


def test_a_transformer_checkpoint_from_before_the_setting_keeps_rope():
    old = config_of({"config": {"policy": {"name": "transformer", "episodic_core": True}}})
    assert old.policy.positions == "episode"
    assert config_of({"config": {"policy": {"name": "transformer", "positions": "none"}}}).policy.positions == "none"
    assert "positions" not in config_of({"config": {"policy": {"name": "gru"}}}).policy


def test_an_unknown_positions_value_is_named():
    with pytest.raises(ConfigError, match="policy.positions=.alibi. is not allowed"):
        small_policy(0, positions="alibi")
