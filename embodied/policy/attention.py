"""Multi-head Sink-KV self-attention of one decoder layer, over a whole sequence or one cached step.

Sink variants (``sink`` in the policy config):
- ``none``:  no sink slot, plain softmax;
- ``token``: a learned sink *token* (d_model) passed through this layer's own k / v projections;
- ``k``:     learned sink key per head, sink value 0 (the ReLIC default);
- ``kv``:    learned sink key and value per head;
- ``zero``:  k = v = 0, i.e. softmax-off-by-one (a fixed extra 1 in the denominator).
"""
from __future__ import annotations

import torch
from torch import nn

from embodied.kernels import sink_attention, sink_decode
from embodied.policy.kv_cache import KVCache
from embodied.policy.layers import rope, rotate

SINKS = ("none", "token", "k", "kv", "zero")


class SinkAttention(nn.Module):
    def __init__(self, d_model: int, heads: int, head_dim: int, sink: str, rope_theta: float | None,
                 backend: str | None = None):
        """``rope_theta`` None: no positions (NoPE); keys and queries are compared by content alone."""
        super().__init__()
        if sink not in SINKS:
            raise ValueError(f"sink={sink!r} is not allowed; allowed values: {list(SINKS)}")
        self.heads, self.head_dim, self.sink, self.rope_theta, self.backend = heads, head_dim, sink, rope_theta, backend
        self.wq = nn.Linear(d_model, heads * head_dim, bias=False)
        self.wk = nn.Linear(d_model, heads * head_dim, bias=False)
        self.wv = nn.Linear(d_model, heads * head_dim, bias=False)
        self.wo = nn.Linear(heads * head_dim, d_model, bias=False)
        if sink == "token":
            self.sink_token = nn.Parameter(torch.randn(d_model) * d_model ** -0.5)
        if sink in ("k", "kv"):
            self.k_sink = nn.Parameter(torch.randn(heads, head_dim) * head_dim ** -0.5)
        if sink == "kv":
            self.v_sink = nn.Parameter(torch.zeros(heads, head_dim))

    def sink_kv(self) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """The sink slot ``(k_s, v_s)`` of every head, each ``(H, D)`` or ``None``."""
        if self.sink == "token":
            return (self.wk(self.sink_token).view(self.heads, self.head_dim),
                    self.wv(self.sink_token).view(self.heads, self.head_dim))
        if self.sink == "k":
            return self.k_sink, None
        if self.sink == "kv":
            return self.k_sink, self.v_sink
        if self.sink == "zero":
            return self.wq.weight.new_zeros(self.heads, self.head_dim), None
        return None, None

    def _project(self, x: torch.Tensor, rope_pos: torch.Tensor, queries_from: int = 0):
        """Rotated ``q`` of steps ``[queries_from, T)`` and ``k``, ``v`` of all steps, each ``(B, H, ., D)``."""
        b = x.shape[0]

        def heads(y: torch.Tensor) -> torch.Tensor:
            return y.view(b, y.shape[1], self.heads, self.head_dim).transpose(1, 2)

        q, k, v = heads(self.wq(x[:, queries_from:])), heads(self.wk(x)), heads(self.wv(x))
        if self.rope_theta is None:
            return q, k, v
        cos, sin = rope(rope_pos, self.head_dim, self.rope_theta, q.dtype)
        return rotate(q, cos[:, :, queries_from:], sin[:, :, queries_from:]), rotate(k, cos, sin), v

    def forward(self, x: torch.Tensor, rope_pos: torch.Tensor, lengths: torch.Tensor, key_start: torch.Tensor | None,
                queries_from: int = 0, prefix: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Causal attention over ``x (B, T, d)``; also returns this layer's ``k, v (B, H, T, D)`` (for caches).

        Outputs cover steps ``[queries_from, T)`` only (all steps are keys): a last layer whose earlier outputs
        nothing reads (the context of a loss window) skips their queries. ``prefix`` (``k, v (B, H, P, D)``,
        e.g. a KV cache's first P slots) holds the keys of P earlier steps that ``x`` continues: ``x`` is then
        at positions ``[P, P + T)`` and ``lengths`` and ``key_start`` count from the prefix's start.
        """
        q, k, v = self._project(x, rope_pos, queries_from)
        ks, vs = self.sink_kv()
        if key_start is not None:
            key_start = key_start[:, queries_from:]
        keys, values, offset = k, v, queries_from
        if prefix is not None:
            keys, values = torch.cat([prefix[0].to(k.dtype), k], 2), torch.cat([prefix[1].to(v.dtype), v], 2)
            offset += prefix[0].shape[2]
        out = sink_attention(q, keys, values, ks, vs, q_offset=offset, lengths=lengths, key_start=key_start,
                             backend=self.backend)
        return self.wo(out.transpose(1, 2).reshape(x.shape[0], q.shape[2], -1)), k, v

    def step(self, x: torch.Tensor, rope_pos: torch.Tensor, cache: KVCache, layer: int,
             slots: torch.Tensor, key_start: torch.Tensor | None = None) -> torch.Tensor:
        """One new token per env ``x (B, d)``: append its k, v at ``slots`` and attend over the cache's ``layer``
        from ``key_start`` (default: the cache's)."""
        q, k, v = self._project(x[:, None], rope_pos[:, None])
        cache.write(layer, q[:, :, 0], k[:, :, 0], v[:, :, 0], slots)
        ks, vs = self.sink_kv()
        out = sink_decode(q[:, :, 0].to(cache.k.dtype), cache.k[layer], cache.v[layer], slots + 1, ks, vs,
                          key_start=cache.key_start if key_start is None else key_start, backend=self.backend)
        return self.wo(out.reshape(x.shape[0], -1).to(x.dtype))
