"""Incremental inference with the KV cache gives the logits and values of a full-sequence forward."""
from __future__ import annotations

import pytest
import torch

from policy_inputs import at, small_policy, trial_batch

SINKS = ("none", "token", "k", "kv", "zero")


def _step_all(policy, inputs, state, steps):
    logits, values = [], []
    for i in steps:
        lg, v, state = policy.step(at(inputs, i), state)
        logits.append(lg)
        values.append(v)
    return torch.stack(logits, 1), torch.stack(values, 1), state


@pytest.mark.parametrize("inter_episode", [True, False])
@pytest.mark.parametrize("sink", SINKS)
def test_step_matches_forward(sink, inter_episode, seed):
    policy = small_policy(seed, sink=sink, inter_episode=inter_episode)
    inputs = trial_batch(3, 30, seed)
    with torch.no_grad():
        full_logits, full_values = policy(inputs)
        logits, values, state = _step_all(policy, inputs, policy.initial_state(3, 40), range(30))
    assert full_logits.abs().max() > 0.1, "outputs too small for the comparison to mean anything"
    assert (logits - full_logits).abs().max() <= 1e-4, f"seed {seed}"
    assert (values - full_values).abs().max() <= 1e-4, f"seed {seed}"
    last_trial = trial_batch(3, 30, seed)["is_trial_first"].long().cumsum(1)
    steps_in_last_trial = (last_trial == last_trial[:, -1:]).sum(1)
    assert torch.equal(state.lengths, steps_in_last_trial)


def test_masking_changes_outputs(seed):
    """The baseline really differs: across-episode attention vs the running episode only."""
    inputs = trial_batch(2, 30, seed, max_episode=6)
    with torch.no_grad():
        a, _ = small_policy(seed, inter_episode=True)(inputs)
        b, _ = small_policy(seed, inter_episode=False)(inputs)
    first_episode = inputs["episode_index"] == 0
    assert torch.allclose(a[first_episode], b[first_episode], atol=1e-5)
    assert (a[~first_episode] - b[~first_episode]).abs().max() > 1e-3


def test_prefill_then_step_matches_forward(seed):
    """Refreshing a cache by ``prefill`` (after an update) and continuing with ``step``."""
    policy = small_policy(seed, sink="kv", inter_episode=False)
    inputs = trial_batch(2, 24, seed)
    with torch.no_grad():
        full_logits, full_values = policy(inputs)
        pre_logits, _, state = policy.prefill({k: v[:, :15] for k, v in inputs.items()}, max_steps=32)
        logits, values, _ = _step_all(policy, inputs, state, range(15, 24))
    assert (pre_logits - full_logits[:, :15]).abs().max() <= 1e-4
    assert (logits - full_logits[:, 15:]).abs().max() <= 1e-4
    assert (values - full_values[:, 15:]).abs().max() <= 1e-4


def test_ragged_lengths_ignore_padding(seed):
    policy = small_policy(seed)
    inputs = trial_batch(2, 20, seed)
    padded = {k: v.clone() for k, v in inputs.items()}
    padded["rgb"][1, 12:] = 255 - padded["rgb"][1, 12:]  # garbage past env 1's length
    with torch.no_grad():
        full, _ = policy(inputs)
        ragged, _ = policy(padded, lengths=torch.tensor([20, 12]))
    assert (ragged[1, :12] - full[1, :12]).abs().max() <= 1e-5
    assert (ragged[0] - full[0]).abs().max() <= 1e-5


def test_cache_reports_memory_and_refuses_overflow(seed):
    policy = small_policy(seed)
    state = policy.initial_state(2, 4)
    assert state.bytes_per_step == policy.cache_bytes_per_step() == 2 * 2 * 2 * 16 * 4
    assert state.nbytes == 2 * state.bytes_per_step * 4
    inputs = trial_batch(2, 6, seed, max_episode=100)
    with torch.no_grad():
        _step_all(policy, inputs, state, range(4))
        with pytest.raises(RuntimeError, match="KV cache full"):
            policy.step(at(inputs, 4), state)


def test_bf16_cache_halves_memory_and_stays_close(seed):
    policy = small_policy(seed, sink="kv")
    inputs = trial_batch(2, 16, seed)
    with torch.no_grad():
        full_logits, _ = policy(inputs)
        state = policy.initial_state(2, 16, dtype=torch.bfloat16)
        logits, _, _ = _step_all(policy, inputs, state, range(16))
    assert state.bytes_per_step == policy.cache_bytes_per_step() // 2
    assert (logits - full_logits).abs().max() <= 0.05 * full_logits.abs().max()


@pytest.mark.slow
def test_long_context_64k(seed):
    """A trial of 65,536 steps in one cache: prefill it, rewind 3 steps, step them again.

    Attention is per episode here (``inter_episode: false``) so that the full-sequence reference stays
    affordable on a CPU; cache slots, positions and decoding still run at 64k. Across-episode attention
    over 64k keys is checked at the kernel level (tests/kernels, decode at 64k).
    """
    policy = small_policy(seed, layers=1, heads=1, d_model=16, head_dim=16, mlp_hidden=16, inter_episode=False,
                          encoder={"feature_dim": 8, "channels": [4]})
    t = 65536
    inputs = trial_batch(1, t, seed, max_episode=300)
    inputs["is_trial_first"][:, 1:] = False  # one trial, every step in context
    # The rewind below restores slot lengths, not the episode-start marker: keep the last steps in one episode.
    inputs["is_first"][:, -4:] = False
    inputs["episode_index"] = inputs["is_first"].long().cumsum(1) - 1
    inputs["rgb"] = inputs["rgb"][:, :, :4, :4].contiguous()
    inputs["depth"] = inputs["depth"][:, :, :4, :4].contiguous()
    with torch.no_grad():
        full_logits, full_values, state = policy.prefill(inputs)
        assert state.max_steps == t and int(state.lengths[0]) == t
        state.lengths -= 3
        logits, values, state = _step_all(policy, inputs, state, range(t - 3, t))
    assert int(state.lengths[0]) == t and int(inputs["episode_index"].max()) > 100
    assert (logits - full_logits[:, -3:]).abs().max() <= 1e-4
    assert (values - full_values[:, -3:]).abs().max() <= 1e-4
