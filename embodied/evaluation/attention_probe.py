"""Where a transformer policy "looks back": the attention mass of the newest step over the trial so far.

A policy may offer this itself as ``policy.attention_weights()`` (called after ``step``; per env a 1-D
tensor over the steps of the trial, oldest first). For the Sink-KV transformer of
``embodied.policy.transformer`` that does not (yet), :class:`AttentionProbe` computes it from outside:
it wraps each layer's ``attn.step`` on the instance, re-projects the step's query and computes

    p_j = exp(q·k_j/√d) / (exp(q·k_s/√d) + Σ_{key_start ≤ i ≤ t} exp(q·k_i/√d))

over the cached keys (the sink slot takes part in the normalisation but gets no position), then
averages over heads and layers. Nothing of the policy's computation changes.
"""
from __future__ import annotations

import math

import torch


def supports(policy) -> bool:
    """Whether the probe can attach to ``policy`` (a Sink-KV transformer with cached attention)."""
    blocks = getattr(policy, "blocks", None)
    return blocks is not None and len(blocks) > 0 and all(
        hasattr(b, "attn") and hasattr(b.attn, "_project") and hasattr(b.attn, "sink_kv") for b in blocks)


class AttentionProbe:
    """Attach to a transformer policy; after each ``policy.step``, :meth:`weights` gives the masses."""

    def __init__(self, policy):
        if not supports(policy):
            raise TypeError(f"{type(policy).__name__} has no Sink-KV attention layers to probe")
        self._mass: list[torch.Tensor] = []
        self._lengths: torch.Tensor | None = None
        for block in policy.blocks:
            self._wrap(block.attn)

    def _wrap(self, attn) -> None:
        original = attn.step

        def step(x, rope_pos, cache, layer, slots):
            out = original(x, rope_pos, cache, layer, slots)
            if layer == 0:
                self._mass = []
            self._mass.append(layer_probs(attn, x, rope_pos, cache, layer, slots).mean(1))
            self._lengths = slots + 1
            return out

        attn.step = step

    def layer_weights(self) -> list[list[torch.Tensor]] | None:
        """Per layer, per env: mass of the latest step over slots ``0 .. t`` of its trial (heads averaged)."""
        if not self._mass:
            return None
        lengths = self._lengths.tolist()
        return [[m[b, :int(n)] for b, n in enumerate(lengths)] for m in self._mass]

    def weights(self) -> list[torch.Tensor] | None:
        """Per env: mass of the latest step over slots ``0 .. t`` of its trial (heads and layers averaged)."""
        if not self._mass:
            return None
        mean = torch.stack(self._mass).mean(0)
        return [mean[b, :int(n)] for b, n in enumerate(self._lengths.tolist())]


def layer_probs(attn, x: torch.Tensor, rope_pos: torch.Tensor, cache, layer: int, slots: torch.Tensor) -> torch.Tensor:
    """Attention probabilities ``(B, H, S)`` of one layer's new query (``x``: the layer's normed input)
    over the cache slots; slots outside ``[key_start, slot]`` get 0, the sink's share is left out."""
    with torch.no_grad():
        q, _, _ = attn._project(x[:, None], rope_pos[:, None])
        q = q[:, :, 0].float()  # (B, H, D)
        keys = cache.k[layer].float()  # (B, H, S, D)
        scale = 1.0 / math.sqrt(q.shape[-1])
        scores = torch.einsum("bhd,bhsd->bhs", q, keys) * scale
        pos = torch.arange(keys.shape[2], device=keys.device)
        valid = (pos[None] <= slots[:, None]) & (pos[None] >= cache.key_start[:, None])  # (B, S)
        scores = scores.masked_fill(~valid[:, None], float("-inf"))
        k_sink, _ = attn.sink_kv()
        if k_sink is None:
            return torch.softmax(scores, -1).nan_to_num(0.0)  # an env with no visible key has no mass
        sink = torch.einsum("bhd,hd->bh", q, k_sink.float()) * scale
        return torch.softmax(torch.cat([sink[..., None], scores], -1), -1)[..., 1:]
