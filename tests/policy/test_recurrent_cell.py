"""The recurrent policy's LSTM cell: the float32 pass (oneDNN's fused sequence kernels on CPU) against a
float64 copy (PyTorch's step-by-step reference), outputs and every gradient, with trials restarting inside
the sequence and a state carried in."""
from __future__ import annotations

import copy

import pytest
import torch
from omegaconf import OmegaConf
from policy_inputs import CONFIGS, at, spaces, trial_batch

from embodied.config import ConfigError
from embodied.policy import build


def recurrent(seed: int, **overrides):
    cfg = OmegaConf.load(CONFIGS / "gru.yaml")
    cfg.merge_with(OmegaConf.create({"hidden": 24, "token_dim": 16, "layers": 2,
                                     "encoder": {"feature_dim": 16, "channels": [4, 8]}, **overrides}))
    torch.manual_seed(seed)
    return build(cfg, *spaces())


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_sequence_pass_matches_float64_reference_and_steps(cell, seed):
    net = recurrent(seed, cell=cell, reward_input=True)
    ref = copy.deepcopy(net).double()
    inputs = trial_batch(3, 40, seed)
    inputs["prev_reward"] = inputs["prev_reward"].float()
    h0 = torch.randn(net.initial_state(3, 40).shape, generator=torch.Generator().manual_seed(seed))
    h0[:, 0] = 0  # env 0 starts a trial; the others continue a carried state (the other trial flags cut inside)
    inputs["is_trial_first"][1:, 0] = False
    logits, values = net(inputs, context=h0)
    ref_inputs = {k: v.double() if v.dtype.is_floating_point and k != "rgb" else v for k, v in inputs.items()}
    ref_logits, ref_values = ref(ref_inputs, context=h0.double())
    torch.testing.assert_close(logits.double(), ref_logits, atol=2e-5, rtol=1e-4)
    torch.testing.assert_close(values.double(), ref_values, atol=2e-5, rtol=1e-4)
    w = torch.randn(logits.shape, generator=torch.Generator().manual_seed(seed + 1))
    ((logits * w).sum() + values.square().sum()).backward()
    ((ref_logits * w.double()).sum() + ref_values.square().sum()).backward()
    for (name, p), q in zip(net.named_parameters(), ref.parameters()):
        if p.requires_grad:
            torch.testing.assert_close(p.grad.double(), q.grad, atol=5e-5, rtol=1e-3, msg=name)
    # acting one step at a time from the same state gives what the sequence pass gives
    state = h0.clone()
    with torch.no_grad():
        for i in range(inputs["step_index"].shape[1]):
            step_logits, _, state = net.step(at(inputs, i), state)
            torch.testing.assert_close(step_logits, logits[:, i].detach(), atol=1e-4, rtol=1e-4)


def test_lstm_weights_and_state_layout(seed):
    net = recurrent(seed, cell="lstm")
    assert any(k.startswith("lstm.") for k in net.state_dict()) and not hasattr(net, "gru")
    assert net.initial_state(5, 8).shape == (2 * 2, 5, 24)  # hidden and cell states of both layers
    with pytest.raises(ConfigError, match=r"policy.cell='rnn' is not allowed"):
        recurrent(seed, cell="rnn")


def test_the_lstm_policy_group_is_the_gru_group_with_an_lstm_cell():
    from embodied.config import load

    lstm, gru = load("train", ["policy=lstm"]), load("train", ["policy=gru"])
    assert lstm.policy.cell == "lstm" and gru.policy.cell == "gru"
    assert {k: v for k, v in lstm.policy.items() if k != "cell"} == {k: v for k, v in gru.policy.items() if k != "cell"}
    assert load("train", []).policy == lstm.policy  # the default
