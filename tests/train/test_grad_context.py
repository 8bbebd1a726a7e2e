"""``trainer.grad_context``: a partial update over a constant context computes what the full pass computes,
minus the gradient into the context, and reaching back as far as the window starts is the full update."""
from __future__ import annotations

import pytest
import torch
from helpers import filled_buffer
from test_learner_speedups import STOP, WINDOW, close, transformer_buffer

from embodied.kernels import reference_attention
from embodied.learner.ppo import grad_context_steps
from embodied.policy.attention import SinkAttention


def _buffer(kind: str, **overrides):
    if kind == "gru":
        return filled_buffer(num_envs=4, capacity=40, stop=STOP)
    return transformer_buffer(**overrides)


@pytest.mark.parametrize("kind,overrides", [("gru", {}), ("transformer", {"inter_episode": True}),
                                            ("transformer", {"inter_episode": False, "sink": "kv"}),
                                            ("transformer", {"episodic_core": True})])
@pytest.mark.parametrize("first", [1, 13, STOP - WINDOW])
def test_forward_from_a_context_is_the_tail_of_the_full_pass(kind, overrides, first):
    """Episode starts fall both inside the context and inside the continued steps (line env, 5-step episodes)."""
    _, policy, _, buf, _, _ = _buffer(kind, **overrides)
    policy.eval()
    inputs = buf.inputs(STOP)
    with torch.no_grad():
        for name, p in policy.named_parameters():
            if name in policy.memory_parameters():  # an episodic core's memory, read (it starts at zero)
                p.normal_(0, 0.3)
        logits, values = policy(inputs)
        _, _, context = policy.prefill({k: v[:, :first] for k, v in inputs.items()}, max_steps=first)
        rows = torch.tensor([2, 0, 3])
        tail_logits, tail_values = policy({k: v[rows, first:] for k, v in inputs.items()},
                                          context=policy.select_state(context, rows))
    assert close(tail_logits, logits[rows, first:], 1e-5)
    assert close(tail_values, values[rows, first:], 1e-5)


@pytest.mark.parametrize("sink", ["k", "kv", "token", "none"])
def test_attention_gradient_stops_at_the_prefix(sink):
    """Against the definition: the full-sequence reference attention with the prefix's keys and values detached."""
    torch.manual_seed(1)
    attn = SinkAttention(16, 2, 8, sink, 10000.0, backend="chunked")
    with torch.no_grad():
        for p in attn.parameters():
            p.normal_(0, 0.5)
    b, t, first = 3, 30, 18
    x = torch.randn(b, t, 16)
    pos = torch.randint(0, 4, (b, t)).sort(1).values
    lengths = torch.full((b,), t)
    key_start = (torch.arange(t) - torch.randint(0, t, (b, t))).clamp_min(0)
    grad = torch.randn(b, t - first, 16)

    def grads(out):
        attn.zero_grad()
        (out * grad).sum().backward()
        return [p.grad.clone() for p in attn.parameters()]

    with torch.no_grad():
        _, k_pre, v_pre = attn(x[:, :first], pos[:, :first], torch.full((b,), first), key_start[:, :first])
    out, _, _ = attn(x[:, first:], pos[:, first:], lengths, key_start[:, first:], prefix=(k_pre, v_pre))
    got = grads(out)

    q, k, v = attn._project(x, pos)
    k = torch.cat([k[:, :, :first].detach(), k[:, :, first:]], 2)
    v = torch.cat([v[:, :, :first].detach(), v[:, :, first:]], 2)
    ks, vs = attn.sink_kv()
    ref = reference_attention(q[:, :, first:], k, v, ks, vs, first, lengths, key_start[:, first:])
    ref = attn.wo(ref.transpose(1, 2).reshape(b, t - first, -1))
    assert close(out, ref, 1e-5)
    for g, want in zip(got, grads(ref)):
        assert close(g, want, 1e-4)


def _update(kind: str, grad_context: int) -> dict[str, torch.Tensor]:
    _, policy, learner, buf, _, _ = _buffer(kind)
    learner.hp.grad_context = grad_context
    torch.manual_seed(0)  # the same minibatches
    learner.update(buf, STOP - WINDOW, STOP, torch.zeros(buf.num_envs))
    return {k: v.clone() for k, v in policy.state_dict().items()}


@pytest.mark.parametrize("kind", ["gru", "transformer"])
def test_a_window_reaching_the_trial_start_is_the_full_update_and_none_is_not(kind):
    full = _update(kind, -1)
    reaching = _update(kind, STOP - WINDOW)
    cut = _update(kind, 0)
    assert all(close(reaching[k], v, 1e-5) for k, v in full.items())
    assert any(not close(cut[k], v, 1e-4) for k, v in full.items())


def test_grad_context_values():
    assert [grad_context_steps(v) for v in ("full", "none", 64)] == [-1, 0, 64]
    for bad in ("all", 0, -3, True, 1.5):
        with pytest.raises(ValueError, match="trainer.grad_context"):
            grad_context_steps(bad)


@pytest.mark.parametrize("kind", ["gru", "transformer"])
def test_the_refreshed_state_is_the_context_the_next_update_would_compute(kind):
    """The refresh at ``start`` leaves exactly the context of the update that starts there (no second prefill)."""
    weights = []
    for reuse in (True, False):
        _, policy, learner, buf, _, _ = _buffer(kind)
        learner.hp.grad_context = 0
        learner.refresh(buf, STOP - WINDOW, [slice(0, 2), slice(2, 4)])
        if not reuse:
            learner._refreshed = None
        calls = []
        prefill = policy.prefill
        policy.prefill = lambda *a, **k: calls.append(1) or prefill(*a, **k)
        torch.manual_seed(0)
        learner.update(buf, STOP - WINDOW, STOP, torch.zeros(buf.num_envs))
        assert len(calls) == (0 if reuse else 1)
        weights.append(policy.state_dict())
    assert all(close(weights[0][k], v, 1e-5) for k, v in weights[1].items())
