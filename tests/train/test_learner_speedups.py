"""The learner's CPU speed-ups compute what the plain paths compute: a whole PPO update and refresh on the
fused attention path against the chunked one, the window-only attention queries, the vectorised GAE."""
from __future__ import annotations

import pytest
import torch
from helpers import CONFIGS, filled_buffer, np_inputs
from omegaconf import OmegaConf
from test_gae import reference_gae

from embodied.kernels import reference_decode, sink_decode
from embodied.learner.gae import gae
from embodied.policy.attention import SinkAttention
from embodied.policy.kv_cache import KVCache

STOP, WINDOW = 32, 8


def close(got: torch.Tensor, want: torch.Tensor, rel: float = 1e-5) -> bool:
    """Equal up to float32 rounding: the largest difference against the largest value."""
    return bool((got - want).abs().max() <= rel * want.abs().max().clamp_min(1e-6))


def transformer_buffer(size: int = 6, **overrides):
    """A small relic_small transformer that has acted STOP steps in 4 line envs (several episodes each; images of
    ``size`` >= 8 go through the visual encoder)."""
    cfg = OmegaConf.to_container(OmegaConf.load(CONFIGS / "policy" / "relic_small.yaml"))
    cfg.update(d_model=32, layers=2, heads=2, head_dim=8, mlp_hidden=48, max_episode_steps=32, **overrides)
    cfg["encoder"].update(feature_dim=8, channels=[4, 4])
    return filled_buffer(num_envs=4, capacity=40, stop=STOP, size=size, **cfg)


def _update_and_refresh(backend: str, monkeypatch, **overrides):
    monkeypatch.setenv("EMBODIED_ATTENTION", backend)
    _, policy, learner, buf, obs, _ = transformer_buffer(**overrides)
    torch.manual_seed(0)  # the same minibatches
    stats = learner.update(buf, STOP - WINDOW, STOP, torch.zeros(buf.num_envs))
    states = learner.refresh(buf, STOP, [slice(0, 2), slice(2, 4)])
    _, logprob, value, _ = learner.act(np_inputs({k: v[:2] for k, v in obs.items()}, buf.previous(slice(0, 2), STOP)),
                                       states[0])  # a step on from the refreshed cache
    return stats, policy.state_dict(), [buf.value[:, :STOP], buf.logprob[:, :STOP], states[0].k, states[1].v, logprob,
                                        value]


@pytest.mark.parametrize("sink", ["k", "none", "token"])
@pytest.mark.parametrize("inter_episode", [True, False])
def test_update_and_refresh_match_the_chunked_path(monkeypatch, sink, inter_episode):
    fused = _update_and_refresh("sdpa", monkeypatch, sink=sink, inter_episode=inter_episode)
    chunked = _update_and_refresh("chunked", monkeypatch, sink=sink, inter_episode=inter_episode)
    for k, v in chunked[0].items():
        assert fused[0][k] == pytest.approx(v, rel=1e-4, abs=1e-6, nan_ok=True), k
    for k, v in chunked[1].items():
        assert close(fused[1][k], v, 1e-4), k
    for got, want in zip(fused[2], chunked[2]):
        assert close(got, want, 1e-4)


@pytest.mark.parametrize("sink", ["k", "kv", "none", "token"])
@pytest.mark.parametrize("windows", [False, True])
def test_window_queries_are_the_tail_of_the_full_attention(sink, windows):
    """``queries_from`` gives the last outputs of the full pass, and the same gradients through them."""
    torch.manual_seed(0)
    attn = SinkAttention(16, 2, 8, sink, 10000.0)
    with torch.no_grad():
        for p in attn.parameters():
            p.normal_(0, 0.5)
    b, t, cut = 3, 40, 29
    x = torch.randn(b, t, 16)
    pos = torch.randint(0, 4, (b, t)).sort(1).values
    lengths = torch.tensor([t, t - 3, t - 8])
    key_start = (torch.arange(t) - torch.randint(0, t, (b, t))).clamp_min(0) if windows else None
    grad = torch.randn(b, t - cut, 16)
    outs = []
    for queries_from in (0, cut):
        attn.zero_grad()
        out, k, v = attn(x, pos, lengths, key_start, queries_from=queries_from)
        out = out[:, cut - queries_from:]
        (out * grad).sum().backward()
        outs.append([out, k, v, *(p.grad.clone() for p in attn.parameters())])
    for full, tail in zip(*outs):
        assert close(tail, full)


def test_gae_is_exactly_the_per_step_recursion():
    g = torch.Generator().manual_seed(0)
    n, t = 3, 50
    rewards, values = torch.randn(n, t, generator=g), torch.randn(n, t, generator=g)
    bootstrap = torch.randn(n, generator=g)
    done = torch.rand(n, t, generator=g) < 0.1
    terminal = done & (torch.rand(n, t, generator=g) < 0.5)
    adv, ret = gae(rewards, values, done, terminal, bootstrap, 0.99, 0.95)
    for i in range(n):
        want = reference_gae(rewards[i].tolist(), values[i].tolist(), done[i].tolist(), terminal[i].tolist(),
                             float(bootstrap[i]), 0.99, 0.95)
        assert torch.allclose(adv[i].double(), torch.as_tensor(want), atol=1e-5)
    assert torch.equal(ret, adv + values)


def test_act_refresh_and_update_leave_the_policy_in_their_mode():
    """Modes are switched only on change: every module still ends up in the mode each call needs."""
    _, policy, learner, buf, obs, state = transformer_buffer()
    learner.update(buf, STOP - WINDOW, STOP, torch.zeros(buf.num_envs))
    assert all(m.training for m in policy.modules())
    learner.act(np_inputs(obs, buf.previous(slice(0, 4), STOP)), state)
    assert not any(m.training for m in policy.modules())
    policy.train()
    learner.refresh(buf, STOP, [slice(0, 4)])
    assert not any(m.training for m in policy.modules())


def test_decode_over_a_partly_filled_cache_matches_the_reference():
    """The matrix-product decode skips its mask only where every sequence sees the whole chunk."""
    g = torch.Generator().manual_seed(0)
    cache = KVCache.empty(1, 3, 2, 50, 8, torch.float32, "cpu")
    cache.k.normal_(generator=g)
    cache.v.normal_(generator=g)
    q, ks = torch.randn(3, 2, 8, generator=g), torch.randn(2, 8, generator=g)
    for lengths in ([20, 20, 20], [20, 7, 20]):
        lengths = torch.tensor(lengths)
        got = sink_decode(q, cache.k[0], cache.v[0], lengths, ks, backend="chunked")
        want = reference_decode(q.double(), cache.k[0].double(), cache.v[0].double(), lengths, ks.double())
        assert torch.allclose(got.double(), want, atol=1e-5)


def test_update_threads_hold_during_update_and_refresh_only(monkeypatch):
    _, policy, learner, buf, _, _ = transformer_buffer()
    before = torch.get_num_threads()
    seen = []
    run = policy._run  # the pass under both the training forward and the refresh's prefill
    monkeypatch.setattr(policy, "_run", lambda *a, **k: seen.append(torch.get_num_threads()) or run(*a, **k))
    learner.hp.update_threads = before + 1
    learner.update(buf, STOP - WINDOW, STOP, torch.zeros(buf.num_envs))
    learner.refresh(buf, STOP, [slice(0, 4)])
    assert torch.get_num_threads() == before
    assert len(seen) == 2 * 2 + 1 and set(seen) == {before + 1}  # 2 epochs x 2 minibatches, 1 refresh half
