"""Sink-KV attention in plain PyTorch: the definition every fast path is tested against.

It builds the full score matrix, so it is for tests and small sizes only (memory grows as N x S).

Shapes (one convention for every path in this package):
- ``q`` ``(B, H, N, D)``: N queries at absolute positions ``q_offset + i`` (a chunk over a prefix);
- ``k``, ``v`` ``(B, H, S, D)``: keys at positions ``0..S-1``;
- ``k_sink``, ``v_sink`` ``(H, D)`` or ``None``: the sink slot, one per head, without position;
- ``lengths`` ``(B,)``: valid keys per sequence (ragged batches); queries at positions ``>= lengths[b]``
  are padding and give zero output;
- ``key_start`` ``(B, N)`` or ``None``: the first key each query may see (masks attention to the
  query's own episode for the ``inter_episode: false`` baseline).

Query ``i`` sees key ``j`` iff ``key_start[b, i] <= j <= q_offset + i`` and ``j < lengths[b]``; it always
sees the sink:  out_i = (e^{q.k_s s} v_s + sum_j e^{q.k_j s} v_j) / (e^{q.k_s s} + sum_j e^{q.k_j s}),
s = 1/sqrt(D). ``k_sink=None`` means no sink slot; ``v_sink=None`` with a ``k_sink`` means v_s = 0.
"""
from __future__ import annotations

import torch


def visible(pos_q: torch.Tensor, pos_k: torch.Tensor, lengths: torch.Tensor,
            key_start: torch.Tensor | None) -> torch.Tensor:
    """Bool ``(B, 1, Nq, Nk)``: which of the keys at ``pos_k`` each query at ``pos_q`` may attend to.

    ``key_start`` is ``(B, Nq)`` (already sliced to these queries) or ``None``.
    """
    lengths = lengths.view(-1, 1, 1, 1)
    mask = (pos_k.view(1, 1, 1, -1) <= pos_q.view(1, 1, -1, 1)) & (pos_k.view(1, 1, 1, -1) < lengths)
    if key_start is not None:
        mask = mask & (pos_k.view(1, 1, 1, -1) >= key_start[:, None, :, None])
    return mask


def valid_rows(pos_q: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Bool ``(B, 1, Nq, 1)``: queries inside their sequence (the others are padding)."""
    return (pos_q.view(1, 1, -1, 1) < lengths.view(-1, 1, 1, 1))


def sink_logits(q: torch.Tensor, k_sink: torch.Tensor, scale: float) -> torch.Tensor:
    """``(B, H, N)`` scores of every query against its head's sink key."""
    return torch.einsum("bhnd,hd->bhn", q, k_sink.to(q.dtype)) * scale


def reference_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                        k_sink: torch.Tensor | None = None, v_sink: torch.Tensor | None = None,
                        q_offset: int = 0, lengths: torch.Tensor | None = None,
                        key_start: torch.Tensor | None = None, scale: float | None = None) -> torch.Tensor:
    """Sink-KV attention by its definition (differentiable, any dtype; tests use float64)."""
    b, _, n, d = q.shape
    s = k.shape[2]
    scale = d ** -0.5 if scale is None else scale
    if lengths is None:
        lengths = torch.full((b,), s, dtype=torch.long, device=q.device)
    pos_q = torch.arange(n, device=q.device) + q_offset
    pos_k = torch.arange(s, device=q.device)
    scores = torch.einsum("bhnd,bhsd->bhns", q, k) * scale
    scores = scores.masked_fill(~visible(pos_q, pos_k, lengths, key_start), float("-inf"))
    values = v
    if k_sink is not None:
        scores = torch.cat([sink_logits(q, k_sink, scale)[..., None], scores], dim=-1)
        vs = torch.zeros_like(k_sink) if v_sink is None else v_sink
        values = torch.cat([vs.to(v.dtype)[None, :, None, :].expand(b, -1, 1, -1), v], dim=2)
    probs = torch.softmax(scores, dim=-1).nan_to_num(0.0)  # rows with nothing visible and no sink
    out = torch.einsum("bhns,bhsd->bhnd", probs, values)
    return out.masked_fill(~valid_rows(pos_q, lengths), 0.0)


def reference_decode(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, lengths: torch.Tensor,
                     k_sink: torch.Tensor | None = None, v_sink: torch.Tensor | None = None,
                     key_start: torch.Tensor | None = None, scale: float | None = None) -> torch.Tensor:
    """One query per sequence ``q (B, H, D)`` at position ``lengths[b] - 1`` over a cache ``(B, H, S, D)``."""
    outs = []
    for i in range(q.shape[0]):
        length = int(lengths[i])
        start = None if key_start is None else key_start[i].view(1, 1)
        outs.append(reference_attention(q[i:i + 1, :, None], k[i:i + 1, :, :length], v[i:i + 1, :, :length],
                                        k_sink, v_sink, q_offset=length - 1, key_start=start, scale=scale))
    return torch.cat(outs)[:, :, 0]


def reference_probs(q: torch.Tensor, k: torch.Tensor, lengths: torch.Tensor, k_sink: torch.Tensor | None = None,
                    key_start: torch.Tensor | None = None, scale: float | None = None) -> torch.Tensor:
    """Attention probabilities ``(B, H, S)`` of one query per sequence ``q (B, H, D)`` at position
    ``lengths[b] - 1`` over a cache ``k (B, H, S, D)``, as ``reference_decode`` weighs the values: 0 outside
    ``[key_start, lengths)``; the sink's share ``1 - sum`` is left out (what an attention probe reads)."""
    s = k.shape[2]
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    q, k = q.float(), k.float()
    scores = torch.einsum("bhd,bhsd->bhs", q, k) * scale
    pos = torch.arange(s, device=q.device)[None]
    mask = pos < lengths.view(-1, 1)  # (B, S): the query sits at lengths - 1, so causality is the length
    if key_start is not None:
        mask = mask & (pos >= key_start.view(-1, 1))
    scores = scores.masked_fill(~mask[:, None], float("-inf"))
    if k_sink is None:
        return torch.softmax(scores, -1).nan_to_num(0.0)  # a sequence with no visible key has no mass
    sink = sink_logits(q[:, :, None], k_sink.float(), scale)
    return torch.softmax(torch.cat([sink, scores], -1), -1)[..., 1:]
