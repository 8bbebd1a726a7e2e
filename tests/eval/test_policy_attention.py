"""``Policy.attention`` reproduces what the Sink-KV layers actually compute, and evaluation reads it per env."""
from __future__ import annotations

import gymnasium
import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from embodied.rollout.actor import PolicyActor
from embodied.kernels import reference_probs
from embodied.policy import build
from embodied.policy.attention import SinkAttention
from embodied.policy.kv_cache import KVCache



@pytest.mark.parametrize("sink", ["k", "kv", "none", "zero", "token"])
def test_probabilities_reconstruct_the_layer_output(sink):
    torch.manual_seed(0)
    heads, dim, d_model, batch, steps = 2, 8, 16, 3, 7
    attn = SinkAttention(d_model, heads, dim, sink, 10000.0, backend="reference").eval()
    if sink == "kv":
        torch.nn.init.normal_(attn.v_sink)
    cache = KVCache.empty(1, batch, heads, steps, dim, torch.float32, "cpu")
    for t in range(steps):
        if t == 2:
            cache.key_start = torch.tensor([0, 2, 0])  # env 1 starts an episode; attends only from slot 2 on
        x = torch.randn(batch, d_model)
        rope = torch.full((batch,), t // 3, dtype=torch.long)
        slots = cache.append_slots()
        with torch.no_grad():
            out = attn.step(x, rope, cache, 0, slots)
        cache.lengths = slots + 1
        p = reference_probs(cache.queries[0], cache.k[0], cache.lengths, attn.sink_kv()[0], cache.key_start)
        assert (t < 2 or torch.all(p[1, :, :2] == 0)) and torch.all(p[:, :, t + 1:] == 0)
        mixed = torch.einsum("bhs,bhsd->bhd", p, cache.v[0])
        _, v_sink = attn.sink_kv()
        if v_sink is not None:
            mixed = mixed + (1 - p.sum(-1, keepdim=True)) * v_sink
        if sink == "none":
            torch.testing.assert_close(p.sum(-1), torch.ones(batch, heads))
        else:
            assert bool((p.sum(-1) < 1).all())
        with torch.no_grad():
            expected = attn.wo(mixed.reshape(batch, -1))
        torch.testing.assert_close(expected, out, rtol=1e-5, atol=1e-5)


def test_the_actor_reads_each_layers_attention_over_the_trial():
    torch.manual_seed(1)
    cfg = OmegaConf.load("configs/policy/relic_small.yaml")
    cfg.d_model, cfg.layers, cfg.mlp_hidden, cfg.encoder.channels, cfg.encoder.feature_dim = 32, 2, 64, [4, 8, 8], 16
    cfg.attention_backend = "reference"
    obs_space = {"rgb": gymnasium.spaces.Box(0, 255, (16, 16, 3), np.uint8),
                 "goal": gymnasium.spaces.Box(0, 1, (5,), np.float32),
                 "gps": gymnasium.spaces.Box(-100, 100, (2,), np.float32)}
    policy = build(cfg, obs_space, {"action": gymnasium.spaces.Discrete(6)})
    agent = PolicyActor(policy, max_steps=16)
    rng = np.random.default_rng(0)
    for t in range(9):
        obs = {"rgb": rng.integers(0, 256, (2, 16, 16, 3), dtype=np.uint8), "goal": np.eye(5, dtype=np.float32)[[1, 3]],
               "gps": rng.normal(size=(2, 2)).astype(np.float32), "episode_index": np.array([t // 4, 0]),
               "step_index": np.array([t % 4, t]), "is_first": np.array([t % 4 == 0, t == 0]),
               "is_trial_first": np.array([t == 0, t == 0])}
        if t == 0:
            agent.reset(None, obs)
        agent.act(None, obs)
        agent.commit(np.zeros(2, np.int64), np.zeros(2, np.float32))
        w = agent.attention()
        assert [len(x) for x in w] == [t + 1, t + 1]
        assert all(bool((x >= 0).all()) and float(x.sum()) <= 1 + 1e-6 for x in w)
        per_layer = agent.layer_attention()
        assert len(per_layer) == cfg.layers
        for env in range(2):  # the layer average is what attention() reports
            np.testing.assert_allclose(np.mean([layer[env] for layer in per_layer], 0), w[env], rtol=1e-6)
    assert PolicyActor(build(OmegaConf.load("configs/policy/gru.yaml"), obs_space,
                             {"action": gymnasium.spaces.Discrete(6)})).attention() is None
