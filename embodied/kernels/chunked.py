"""The CPU path: Sink-KV attention by chunked online softmax, forward and backward, O(S) memory.

Neither pass builds the N x S score matrix: queries go in chunks of ``q_chunk`` and, inside each, keys
in chunks of ``k_chunk`` with a running max / normaliser (flash-attention on the CPU). The backward
recomputes the probabilities per chunk from the saved log-sum-exp instead of storing them, so memory
stays linear in the sequence length (torch 2.13's FlexAttention has no CPU backward, hence this).
Arithmetic is float32 for half and single inputs (float64 stays float64, for gradcheck); outputs and
gradients come back in the input dtype.
"""
from __future__ import annotations

import torch

from embodied.kernels.reference import sink_logits, valid_rows, visible

Q_CHUNK = 512  # module-level so tests can shrink them to exercise many chunks
K_CHUNK = 512


def _acc(t: torch.Tensor) -> torch.Tensor:
    """The accumulation dtype: at least float32."""
    return t.to(torch.promote_types(t.dtype, torch.float32))


def _blocks(q_offset: int, a: int, n_q: int, s: int, k_chunk: int, key_start: torch.Tensor | None):
    """Key chunks ``(c0, c1)`` that queries ``[a, a + n_q)`` can see (causality bounds the top)."""
    hi = min(q_offset + a + n_q, s)
    lo = 0 if key_start is None else int(key_start[:, a:a + n_q].min())
    lo = (max(lo, 0) // k_chunk) * k_chunk
    return [(c, min(c + k_chunk, hi)) for c in range(lo, hi, k_chunk)]


def _scores(qs, kc, pos_q, c0, c1, lengths, start, min_len):
    """Scores of pre-scaled queries ``qs`` against keys ``[c0, c1)``; masked only where a mask bites."""
    sc = qs @ kc.transpose(-1, -2)
    if c1 - 1 > int(pos_q[0]) or c1 > min_len or (start is not None and c0 < int(start.max())):
        pos_k = torch.arange(c0, c1, device=qs.device)
        sc.masked_fill_(~visible(pos_q, pos_k, lengths, start), float("-inf"))
    return sc


def forward(q, k, v, k_sink, v_sink, q_offset, lengths, key_start, scale):
    """Output (input dtype) and log-sum-exp ``(B, H, N)`` (float32, natural log)."""
    q_chunk, k_chunk = Q_CHUNK, K_CHUNK
    b, h, n, d = q.shape
    s = k.shape[2]
    dt = _acc(q[:0]).dtype
    min_len = int(lengths.min())
    out = torch.empty_like(q)
    lse = torch.empty(b, h, n, device=q.device, dtype=dt)
    for a in range(0, n, q_chunk):
        qs = _acc(q[:, :, a:a + q_chunk]) * scale
        nq = qs.shape[2]
        pos_q = torch.arange(a, a + nq, device=q.device) + q_offset
        start = None if key_start is None else key_start[:, a:a + nq]
        if k_sink is not None:
            m = sink_logits(qs, _acc(k_sink), 1.0)
            l = torch.ones_like(m)
            acc = (torch.zeros(b, h, nq, d, device=q.device, dtype=dt) if v_sink is None
                   else _acc(v_sink)[None, :, None, :].expand(b, h, nq, d).clone())
        else:
            m = torch.full((b, h, nq), float("-inf"), device=q.device, dtype=dt)
            l = torch.zeros_like(m)
            acc = torch.zeros(b, h, nq, d, device=q.device, dtype=dt)
        for c0, c1 in _blocks(q_offset, a, nq, s, k_chunk, key_start):
            sc = _scores(qs, _acc(k[:, :, c0:c1]), pos_q, c0, c1, lengths, start, min_len)
            m_new = torch.maximum(m, sc.amax(-1))
            m_safe = m_new.masked_fill(torch.isinf(m_new), 0.0)
            alpha = torch.exp(m - m_safe)
            p = sc.sub_(m_safe[..., None]).exp_()
            l = l * alpha + p.sum(-1)
            acc = acc.mul_(alpha[..., None]).add_(p @ _acc(v[:, :, c0:c1]))
            m = m_new
        ok = valid_rows(pos_q, lengths)
        out[:, :, a:a + nq] = torch.where(ok & (l[..., None] > 0), acc / l.clamp_min(1e-30)[..., None], 0.0)
        lse[:, :, a:a + nq] = torch.where(ok[..., 0], m + torch.log(l), 0.0)
    return out, lse


def backward(do, q, k, v, k_sink, v_sink, out, lse, q_offset, lengths, key_start, scale):
    """Gradients ``(dq, dk, dv, dk_sink, dv_sink)`` by recomputing probabilities chunk by chunk.

    Padding rows have their output gradient zeroed, which zeroes everything they would contribute.
    """
    q_chunk, k_chunk = Q_CHUNK, K_CHUNK
    b, h, n, d = q.shape
    s = k.shape[2]
    dt = _acc(q[:0]).dtype
    min_len = int(lengths.min())
    dq = torch.zeros(b, h, n, d, device=q.device, dtype=dt)
    dk = torch.zeros(b, h, s, d, device=q.device, dtype=dt)
    dv = torch.zeros(b, h, s, d, device=q.device, dtype=dt)
    dks = torch.zeros(h, d, device=q.device, dtype=dt)
    dvs = torch.zeros(h, d, device=q.device, dtype=dt)
    for a in range(0, n, q_chunk):
        qs = _acc(q[:, :, a:a + q_chunk]) * scale
        nq = qs.shape[2]
        pos_q = torch.arange(a, a + nq, device=q.device) + q_offset
        start = None if key_start is None else key_start[:, a:a + nq]
        ok = valid_rows(pos_q, lengths)
        doc = _acc(do[:, :, a:a + nq]) * ok
        lc = lse[:, :, a:a + nq]
        delta = (doc * _acc(out[:, :, a:a + nq])).sum(-1)
        dqc = torch.zeros_like(qs)
        for c0, c1 in _blocks(q_offset, a, nq, s, k_chunk, key_start):
            kc, vc = _acc(k[:, :, c0:c1]), _acc(v[:, :, c0:c1])
            p = _scores(qs, kc, pos_q, c0, c1, lengths, start, min_len).sub_(lc[..., None]).exp_()
            dv[:, :, c0:c1] += p.transpose(-1, -2) @ doc
            ds = (doc @ vc.transpose(-1, -2)).sub_(delta[..., None]).mul_(p)
            dqc += ds @ kc
            dk[:, :, c0:c1] += ds.transpose(-1, -2) @ qs
        if k_sink is not None:
            ps = torch.exp(sink_logits(qs, _acc(k_sink), 1.0) - lc) * ok[..., 0]
            dps = 0.0 if v_sink is None else torch.einsum("bhnd,hd->bhn", doc, _acc(v_sink))
            dss = ps * (dps - delta)
            dqc += dss[..., None] * _acc(k_sink)[None, :, None, :]
            dks += torch.einsum("bhn,bhnd->hd", dss, qs)
            dvs += torch.einsum("bhn,bhnd->hd", ps, doc)
        dq[:, :, a:a + nq] = dqc * scale
    return dq, dk, dv, dks, dvs


def chunked_decode(q, k, v, lengths, k_sink, v_sink, key_start, scale, k_chunk: int = 8192):
    """One query per sequence at position ``lengths - 1`` over a cache: ``q (B, H, D)`` -> ``(B, H, D)``.

    Scores and weighted sums are batched matrix products on the cache slices (no copies); chunks that every
    sequence sees whole (the rollout's common case: all envs at the same step, no episode windows) skip the mask.
    With episode windows the keys start at the earliest window's first slot: an episodic attention reads its
    episode, not the whole trial the cache holds (memory bound, so its cost follows the keys read).
    """
    b, h, d = q.shape
    qs = _acc(q)[:, :, None] * scale  # (B, H, 1, D)
    dt = qs.dtype
    if k_sink is not None:
        m = (qs[:, :, 0] * _acc(k_sink)).sum(-1)
        l = torch.ones_like(m)
        acc = (torch.zeros(b, h, d, device=q.device, dtype=dt) if v_sink is None
               else _acc(v_sink)[None].expand(b, h, d).clone())
    else:
        m = torch.full((b, h), float("-inf"), device=q.device, dtype=dt)
        l = torch.zeros_like(m)
        acc = torch.zeros(b, h, d, device=q.device, dtype=dt)
    hi, min_len = int(lengths.max()), int(lengths.min())
    lo = 0 if key_start is None else max(int(key_start.min()), 0)
    max_start = 0 if key_start is None else int(key_start.max())
    for c0 in range(lo, hi, k_chunk):
        c1 = min(c0 + k_chunk, hi)
        sc = (qs @ _acc(k[:, :, c0:c1]).transpose(-1, -2))[:, :, 0]
        if c1 > min_len or c0 < max_start:
            pos = torch.arange(c0, c1, device=q.device)
            ok = pos[None] < lengths[:, None]
            if key_start is not None:
                ok = ok & (pos[None] >= key_start[:, None])
            sc = sc.masked_fill_(~ok[:, None], float("-inf"))
        m_new = torch.maximum(m, sc.amax(-1))
        m_safe = m_new if k_sink is not None else m_new.masked_fill(torch.isinf(m_new), 0.0)  # finite with a sink
        alpha = torch.exp(m - m_safe)
        p = sc.sub_(m_safe[..., None]).exp_()
        l = l * alpha + p.sum(-1)
        acc = acc * alpha[..., None] + (p[:, :, None] @ _acc(v[:, :, c0:c1]))[:, :, 0]
        m = m_new
    return (acc / l.clamp_min(1e-30)[..., None]).to(q.dtype)
