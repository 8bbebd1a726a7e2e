"""``memory_cut`` (``trainer.memory_dropout``): a trial marked so runs as the same weights with
``policy.inter_episode: false`` would run it, in the sequence pass and when stepping; unmarked trials are untouched."""
from __future__ import annotations

import pytest
import torch
from policy_inputs import at, small_policy, trial_batch
from test_recurrent_cell import recurrent, with_memory_read

from embodied.policy.interface import MEMORY_CUT_KEY


def transformer(seed, inter_episode):
    return small_policy(seed, sink="kv", inter_episode=inter_episode)


def episodic_transformer(seed, inter_episode):
    return small_policy(seed, sink="kv", inter_episode=inter_episode, episodic_core=True)


def lstm(seed, inter_episode):
    return recurrent(seed, cell="lstm", inter_episode=inter_episode)


def episodic_lstm(seed, inter_episode):
    return with_memory_read(recurrent(seed, cell="lstm", inter_episode=inter_episode, episodic_core=True))


@pytest.mark.parametrize("make", [transformer, episodic_transformer, lstm, episodic_lstm], ids=lambda f: f.__name__)
def test_a_cut_trial_runs_as_the_memoryless_network(make, seed):
    b, t = 4, 40
    inputs = trial_batch(b, t, seed, max_episode=8)
    cut = torch.tensor([True, False, True, False])
    marked = {**inputs, MEMORY_CUT_KEY: cut[:, None].expand(b, t)}
    with_memory, memoryless = make(seed, True), make(seed, False)  # the same weights
    with torch.no_grad():
        logits, values = with_memory(marked)
        plain_logits, plain_values = with_memory(inputs)
        cut_logits, cut_values = memoryless(inputs)
        state = with_memory.initial_state(b, t + 1)
        for i in range(t):
            step_logits, step_values, state = with_memory.step(at(marked, i), state)
            torch.testing.assert_close(step_logits, logits[:, i], atol=1e-4, rtol=1e-4)
            torch.testing.assert_close(step_values, values[:, i], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(logits[cut], cut_logits[cut], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(values[cut], cut_values[cut], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(logits[~cut], plain_logits[~cut], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(values[~cut], plain_values[~cut], atol=1e-5, rtol=1e-4)
    # the test could fail: in the cut trials, memory changes what later episodes see (the values: the recurrent
    # actor head starts near zero)
    assert (plain_values[cut] - cut_values[cut]).abs().max() > 1e-3


def test_a_cut_needs_the_episode_flags(seed):
    inputs = trial_batch(2, 6, seed)
    del inputs["is_first"]
    inputs[MEMORY_CUT_KEY] = torch.ones(2, 6, dtype=torch.bool)
    with pytest.raises(KeyError, match="trainer.memory_dropout need the 'is_first' flags"):
        lstm(seed, True)(inputs)
