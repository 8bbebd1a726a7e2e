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


def with_memory_read(net):
    """An episodic-core policy whose memory projection is no longer zero (as after some training)."""
    with torch.no_grad():
        net.memory_out.weight.normal_(0, 0.5, generator=torch.Generator().manual_seed(7))
    return net


@pytest.mark.parametrize("cell,episodic", [("lstm", False), ("gru", False), ("lstm", True)])
def test_sequence_pass_matches_float64_reference_and_steps(cell, episodic, seed):
    net = recurrent(seed, cell=cell, reward_input=True, episodic_core=episodic)
    if episodic:
        with_memory_read(net)
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


@pytest.mark.parametrize("cell,episodic", [("lstm", False), ("gru", False), ("lstm", True)])
def test_without_inter_episode_memory_each_episode_starts_afresh(cell, episodic, seed):
    """``inter_episode: false``: an episode's outputs are those of the same network run on that episode alone
    (from a zero state), in the sequence pass and when stepping; with memory, earlier episodes change them.
    With ``episodic_core`` both cells restart every episode: the memoryless control of the same size."""
    inputs = trial_batch(3, 48, seed, max_episode=10)
    memoryless = recurrent(seed, cell=cell, inter_episode=False, episodic_core=episodic)
    with_memory = recurrent(seed, cell=cell, episodic_core=episodic)  # the same weights (same seed), memory on
    if episodic:
        with_memory_read(memoryless)
        with_memory_read(with_memory)
    logits, values = memoryless(inputs)
    _, remembered = with_memory(inputs)
    state = memoryless.initial_state(3, 48)
    with torch.no_grad():
        for i in range(48):
            step_logits, _, state = memoryless.step(at(inputs, i), state)
            torch.testing.assert_close(step_logits, logits[:, i].detach(), atol=1e-4, rtol=1e-4)
    differs = False
    for b in range(3):
        starts = torch.nonzero(inputs["is_first"][b]).flatten().tolist() + [48]
        for start, stop in zip(starts, starts[1:]):
            alone = {k: v[b:b + 1, start:stop] for k, v in inputs.items()}
            alone_logits, alone_values = with_memory(alone)  # no earlier steps: nothing to remember
            torch.testing.assert_close(logits[b:b + 1, start:stop], alone_logits, atol=1e-5, rtol=1e-4)
            torch.testing.assert_close(values[b:b + 1, start:stop], alone_values, atol=1e-5, rtol=1e-4)
            if not inputs["is_trial_first"][b, start]:  # a new trial forgets in both
                differs |= not torch.allclose(remembered[b:b + 1, start:stop], alone_values, atol=1e-4, rtol=1e-3)
    assert differs  # the test could fail: with the state over the trial, later episodes see the earlier ones


def test_checkpoints_from_before_inter_episode_keep_the_state_over_the_trial():
    from embodied.learner.checkpoint import config_of

    cfg = config_of({"config": {"policy": {"name": "gru", "cell": "lstm", "hidden": 8}}})
    assert cfg.policy.inter_episode is True
    with pytest.raises(ConfigError, match=r"policy.inter_episode='no' is invalid"):
        recurrent(0, inter_episode="no")


def test_an_episodic_core_starts_as_the_memoryless_network(seed):
    """``episodic_core``: before training the memory is read through zeros, so the policy's outputs are the
    memoryless one-cell network's with the same weights, and the projection has a gradient from the start."""
    inputs = trial_batch(3, 48, seed, max_episode=10)
    memoryless = recurrent(seed, cell="lstm", inter_episode=False)
    dual = recurrent(seed, cell="lstm", episodic_core=True)
    missing, unexpected = dual.load_state_dict(memoryless.state_dict(), strict=False)
    assert not unexpected and missing and all(k.startswith("memory") for k in missing)
    assert dual.initial_state(3, 48).shape == (2 * 2 * 2, 3, 24)  # (h, c) x 2 layers x 2 cells
    ref_logits, ref_values = memoryless(inputs)
    logits, values = dual(inputs)
    torch.testing.assert_close(logits, ref_logits)
    torch.testing.assert_close(values, ref_values)
    ((logits - ref_logits.detach()).square().sum() + values.sum()).backward()
    assert dual.memory_out.weight.grad.abs().sum() > 0  # the projection learns from the first update


def test_checkpoints_from_before_the_episodic_core_have_one_cell():
    from embodied.learner.checkpoint import config_of

    cfg = config_of({"config": {"policy": {"name": "gru", "cell": "lstm", "inter_episode": False}}})
    assert cfg.policy.episodic_core is False
    with pytest.raises(ConfigError, match=r"policy.episodic_core='yes' is invalid"):
        recurrent(0, episodic_core="yes")
