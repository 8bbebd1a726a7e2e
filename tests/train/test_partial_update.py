"""A partial update trains on the new steps only, with the whole buffer as context; shuffle and refresh."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from helpers import filled_buffer, np_inputs

from embodied.learner.ppo import PPOHyper, PPOLearner, window_loss

START, STOP = 8, 12


def updated_weights(learner, buf, seed=0):
    torch.manual_seed(seed)  # same minibatch order
    learner.update(buf, START, STOP, torch.zeros(buf.num_envs))
    return {k: v.clone() for k, v in learner.policy.state_dict().items()}


def fresh_copy(learner):
    """A learner with the same (never stepped) weights and hyper-parameters."""
    return PPOLearner(copy.deepcopy(learner.policy), learner.hp, learner.capacity)


def same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def test_old_steps_outcomes_do_not_enter_the_loss():
    _, _, learner, buf, _, _ = filled_buffer()
    reference = updated_weights(fresh_copy(learner), copy.deepcopy(buf))
    garbage = copy.deepcopy(buf)
    g = torch.Generator().manual_seed(1)
    for name in ("reward", "value", "logprob"):
        getattr(garbage, name)[:, :START] = 1e3 * torch.randn(buf.num_envs, START, generator=g)
    assert same(reference, updated_weights(fresh_copy(learner), garbage))
    # ... whereas the outcome of a new step does change the update (the check above can fail).
    changed = copy.deepcopy(buf)
    changed.reward[:, START] += 1.0
    assert not same(reference, updated_weights(fresh_copy(learner), changed))


def test_older_context_shapes_the_update():
    _, _, learner, buf, _, _ = filled_buffer()
    reference = updated_weights(fresh_copy(learner), copy.deepcopy(buf))
    other = copy.deepcopy(buf)
    other.obs["goal"][:, :START] = other.obs["goal"][:, :START].flip(-1)  # old observations only
    assert not same(reference, updated_weights(fresh_copy(learner), other))


def test_loss_gradient_is_zero_outside_the_window():
    g = torch.Generator().manual_seed(0)
    n, t, a = 3, 10, 4
    logits = torch.randn(n, t, a, generator=g, requires_grad=True)
    values = torch.randn(n, t, generator=g, requires_grad=True)
    loss, _ = window_loss(logits, values, torch.randint(0, a, (n, t), generator=g), torch.randn(n, t, generator=g),
                          torch.randn(n, t, generator=g), torch.randn(n, t, generator=g), 6, t, PPOHyper())
    loss.backward()
    assert torch.all(logits.grad[:, :6] == 0) and torch.all(values.grad[:, :6] == 0)
    assert torch.all(logits.grad[:, 6:].abs().sum(-1) > 0) and torch.all(values.grad[:, 6:] != 0)


def episodes_of(buf, n, stop):
    """Per env: list of episodes, each a tuple of per-step (goal, gps, action, reward) rows."""
    done = buf.done[n, :stop].numpy()
    rows = [tuple(np.concatenate([buf.obs["goal"][n, i].numpy(), buf.obs["gps"][n, i].numpy(),
                                  [buf.action[n, i].item(), buf.reward[n, i].item(), buf.obs["step_index"][n, i].item()]]))
            for i in range(stop)]
    out, cur = [], []
    for i in range(stop):
        cur.append(rows[i])
        if done[i]:
            out.append(tuple(cur))
            cur = []
    return out, tuple(cur)


def test_shuffle_keeps_episodes_whole_and_running_last():
    _, _, _, buf, _, _ = filled_buffer(num_envs=6, capacity=24, stop=24)
    before = [episodes_of(buf, n, 24) for n in range(6)]
    buf.shuffle_episodes(24, np.random.default_rng(0))
    moved = 0
    for n in range(6):
        done_eps, running = episodes_of(buf, n, 24)
        assert sorted(done_eps) == sorted(before[n][0])
        assert running == before[n][1]
        moved += done_eps != before[n][0]
        # episode indices renumbered in the new order, trial start at position 0 only
        ep = buf.obs["episode_index"][n, :24].numpy()
        assert ep[0] == 0 and np.all(np.diff(ep) >= 0) and np.all(np.diff(ep) <= 1)
        assert np.all(np.diff(ep) == buf.done[n, :23].numpy())
        assert buf.obs["is_trial_first"][n, 0] and not buf.obs["is_trial_first"][n, 1:24].any()
    assert moved > 0
    # prev_action and prev_reward follow the new order
    inputs = buf.inputs(24)
    assert torch.equal(inputs["prev_action"][:, 1:], buf.action[:, :23])
    assert torch.equal(inputs["prev_reward"][:, 1:], buf.reward[:, :23])


@pytest.mark.parametrize("reward_input", [False, True])
@pytest.mark.parametrize("shuffle", [False, True])
def test_refresh_recomputes_values_and_a_state_that_continues_the_buffer(shuffle, reward_input):
    _, policy, learner, buf, pending, _ = filled_buffer(reward_input=reward_input)
    learner.update(buf, START, STOP, torch.zeros(buf.num_envs))
    if shuffle:
        buf.shuffle_episodes(STOP, np.random.default_rng(0))
    halves = [slice(0, 2), slice(2, 4)]
    states = learner.refresh(buf, STOP, halves)
    with torch.no_grad():
        logits, values = policy(buf.inputs(STOP))
        assert torch.allclose(buf.value[:, :STOP], values, atol=1e-5)
        logp = torch.log_softmax(logits, -1).gather(-1, buf.action[:, :STOP, None])[..., 0]
        assert torch.allclose(buf.logprob[:, :STOP], logp, atol=1e-5)
        for rows, state in zip(halves, states):
            nxt = np_inputs({k: v[rows] for k, v in pending.items()}, buf.previous(rows, STOP))
            step_logits, step_value, _ = policy.step(nxt, state)
            seq = {k: torch.cat([v[rows], nxt[k][:, None].to(v.dtype)], 1) for k, v in buf.inputs(STOP).items()}
            full_logits, full_values = policy(seq)
            assert torch.allclose(step_logits, full_logits[:, -1], atol=1e-5)
            assert torch.allclose(step_value, full_values[:, -1], atol=1e-5)
