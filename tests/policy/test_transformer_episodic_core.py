"""The transformer's episodic core (``policy.episodic_core``): per layer an attention over the running episode
beside one over the trial, read through an output projection that starts at zero."""
from __future__ import annotations

import pytest
import torch
from policy_inputs import at, small_policy, trial_batch


@pytest.mark.parametrize("positions", ["episode", "none"])
@pytest.mark.parametrize("inter_episode", [True, False])
def test_step_and_prefill_match_the_sequence_pass(inter_episode, positions, seed):
    policy = small_policy(seed, sink="kv", episodic_core=True, inter_episode=inter_episode, positions=positions)
    inputs = trial_batch(3, 36, seed, max_episode=8)
    with torch.no_grad():
        logits, values = policy(inputs)
        state = policy.initial_state(3, 40)
        for i in range(36):
            step_logits, step_values, state = policy.step(at(inputs, i), state)
            torch.testing.assert_close(step_logits, logits[:, i], atol=1e-4, rtol=1e-4)
            torch.testing.assert_close(step_values, values[:, i], atol=1e-4, rtol=1e-4)
        _, _, cache = policy.prefill({k: v[:, :20] for k, v in inputs.items()}, max_steps=40)
        for i in range(20, 36):
            step_logits, _, cache = policy.step(at(inputs, i), cache)
            torch.testing.assert_close(step_logits, logits[:, i], atol=1e-4, rtol=1e-4)
        # the continuing context of a partial update (trainer.grad_context): the same outputs again
        _, _, context = policy.prefill({k: v[:, :20] for k, v in inputs.items()})
        later, _ = policy({k: v[:, 20:] for k, v in inputs.items()}, context=context)
    torch.testing.assert_close(later, logits[:, 20:], atol=1e-4, rtol=1e-4)
    assert state.k.shape[0] == 2 * policy.settings.layers  # the memory's keys beside the episodic ones
    assert policy.cache_bytes_per_step() == state.bytes_per_step


def test_the_memory_attention_carries_earlier_episodes_and_only_it(seed):
    """With the memory read (weights drawn large), later episodes differ from the same weights without
    inter-episode memory, first episodes do not; the probe reads the memory attention, which reaches back."""
    inputs = trial_batch(2, 40, seed, max_episode=6)
    with_memory = small_policy(seed, episodic_core=True)
    memoryless = small_policy(seed, episodic_core=True, inter_episode=False)  # the same weights
    with torch.no_grad():
        a, _ = with_memory(inputs)
        b, _ = memoryless(inputs)
        state = with_memory.initial_state(2, 48)
        for i in range(40):
            _, _, state = with_memory.step(at(inputs, i), state)
    first = inputs["episode_index"] == 0
    torch.testing.assert_close(a[first], b[first], atol=1e-5, rtol=1e-4)
    assert (a[~first] - b[~first]).abs().max() > 1e-3
    probes = with_memory.attention(state)
    assert len(probes) == 2
    for env in range(2):
        n = int(state.lengths[env])
        episode_start = n - 1 - int(inputs["step_index"][env, -1])
        if episode_start > 0:  # its running episode is not the trial's first
            assert all(float(p[env, :, :episode_start].sum()) > 1e-3 for p in probes)


def test_a_memoryless_networks_weights_start_it_as_that_network(seed):
    """Loaded with a memoryless transformer's weights (a warm start), the policy computes that network until
    training moves the zero projections, which have a gradient from the first update."""
    inputs = trial_batch(3, 40, seed, max_episode=8)
    control = small_policy(seed, redraw=False, inter_episode=False)
    dual = small_policy(seed + 1, redraw=False, episodic_core=True)
    missing, unexpected = dual.load_state_dict(control.state_dict(), strict=False)
    assert not unexpected and set(missing) == dual.memory_parameters() and missing
    logits, values = dual(inputs)
    ref_logits, ref_values = control(inputs)
    torch.testing.assert_close(logits, ref_logits)
    torch.testing.assert_close(values, ref_values)
    ((logits - ref_logits.detach()).square().sum() + values.sum()).backward()
    assert all(float(blk.memory.wo.weight.grad.abs().sum()) > 0 for blk in dual.blocks)
