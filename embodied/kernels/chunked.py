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

Q_CHUNK = 256  # module-level so tests can shrink them to exercise many chunks
K_CHUNK = 1024


def _acc(t: torch.Tensor) -> torch.Tensor:
    """The accumulation dtype: at least float32."""
    return t.to(torch.promote_types(t.dtype, torch.float32))


def _blocks(q_offset: int, a: int, n_q: int, s: int, k_chunk: int, key_start: torch.Tensor | None):
    """Key chunks ``(c0, c1)`` that queries ``[a, a + n_q)`` can see (causality bounds the top)."""
    hi = min(q_offset + a + n_q, s)
    lo = 0 if key_start is None else int(key_start[:, a:a + n_q].min())
    lo = (max(lo, 0) // k_chunk) * k_chunk
    return [(c, min(c + k_chunk, hi)) for c in range(lo, hi, k_chunk)]


def _scores(qc, kc, pos_q, c0, c1, lengths, start, scale):
    pos_k = torch.arange(c0, c1, device=qc.device)
    s = torch.einsum("bhnd,bhsd->bhns", qc, kc) * scale
    return s.masked_fill(~visible(pos_q, pos_k, lengths, start), float("-inf"))


def chunked_forward(q, k, v, k_sink, v_sink, q_offset, lengths, key_start, scale):
    """Output (input dtype) and log-sum-exp ``(B, H, N)`` (float32, natural log)."""
    q_chunk, k_chunk = Q_CHUNK, K_CHUNK
    b, h, n, d = q.shape
    s = k.shape[2]
    dt = _acc(q[:0]).dtype
    out = torch.empty_like(q)
    lse = torch.empty(b, h, n, device=q.device, dtype=dt)
    for a in range(0, n, q_chunk):
        qc = _acc(q[:, :, a:a + q_chunk])
        nq = qc.shape[2]
        pos_q = torch.arange(a, a + nq, device=q.device) + q_offset
        start = None if key_start is None else key_start[:, a:a + nq]
        if k_sink is not None:
            m = sink_logits(qc, _acc(k_sink), scale)
            l = torch.ones_like(m)
            acc = (torch.zeros(b, h, nq, d, device=q.device, dtype=dt) if v_sink is None
                   else _acc(v_sink)[None, :, None, :].expand(b, h, nq, d).clone())
        else:
            m = torch.full((b, h, nq), float("-inf"), device=q.device, dtype=dt)
            l = torch.zeros_like(m)
            acc = torch.zeros(b, h, nq, d, device=q.device, dtype=dt)
        for c0, c1 in _blocks(q_offset, a, nq, s, k_chunk, key_start):
            sc = _scores(qc, _acc(k[:, :, c0:c1]), pos_q, c0, c1, lengths, start, scale)
            m_new = torch.maximum(m, sc.amax(-1))
            m_safe = m_new.masked_fill(torch.isinf(m_new), 0.0)
            alpha = torch.exp(m - m_safe)
            p = torch.exp(sc - m_safe[..., None])
            l = l * alpha + p.sum(-1)
            acc = acc * alpha[..., None] + p @ _acc(v[:, :, c0:c1])
            m = m_new
        ok = valid_rows(pos_q, lengths)
        out[:, :, a:a + nq] = torch.where(ok & (l[..., None] > 0), acc / l.clamp_min(1e-30)[..., None], 0.0)
        lse[:, :, a:a + nq] = torch.where(ok[..., 0], m + torch.log(l), 0.0)
    return out, lse


def chunked_backward(do, q, k, v, k_sink, v_sink, out, lse, q_offset, lengths, key_start, scale):
    """Gradients ``(dq, dk, dv, dk_sink, dv_sink)`` by recomputing probabilities chunk by chunk."""
    q_chunk, k_chunk = Q_CHUNK, K_CHUNK
    b, h, n, d = q.shape
    s = k.shape[2]
    dt = _acc(q[:0]).dtype
    dq = torch.zeros(b, h, n, d, device=q.device, dtype=dt)
    dk = torch.zeros(b, h, s, d, device=q.device, dtype=dt)
    dv = torch.zeros(b, h, s, d, device=q.device, dtype=dt)
    dks = torch.zeros(h, d, device=q.device, dtype=dt)
    dvs = torch.zeros(h, d, device=q.device, dtype=dt)
    for a in range(0, n, q_chunk):
        qc = _acc(q[:, :, a:a + q_chunk])
        nq = qc.shape[2]
        pos_q = torch.arange(a, a + nq, device=q.device) + q_offset
        start = None if key_start is None else key_start[:, a:a + nq]
        ok = valid_rows(pos_q, lengths)
        doc = _acc(do[:, :, a:a + nq]) * ok
        lc = lse[:, :, a:a + nq]
        delta = (doc * _acc(out[:, :, a:a + nq])).sum(-1)
        dqc = torch.zeros_like(qc)
        for c0, c1 in _blocks(q_offset, a, nq, s, k_chunk, key_start):
            kc, vc = _acc(k[:, :, c0:c1]), _acc(v[:, :, c0:c1])
            p = torch.exp(_scores(qc, kc, pos_q, c0, c1, lengths, start, scale) - lc[..., None]) * ok
            dv[:, :, c0:c1] += p.transpose(-1, -2) @ doc
            ds = p * (doc @ vc.transpose(-1, -2) - delta[..., None])
            dqc += ds @ kc
            dk[:, :, c0:c1] += ds.transpose(-1, -2) @ qc
        if k_sink is not None:
            ps = torch.exp(sink_logits(qc, _acc(k_sink), scale) - lc) * ok[..., 0]
            dps = 0.0 if v_sink is None else torch.einsum("bhnd,hd->bhn", doc, _acc(v_sink))
            dss = ps * (dps - delta)
            dqc += dss[..., None] * _acc(k_sink)[None, :, None, :]
            dks += torch.einsum("bhn,bhnd->hd", dss, qc)
            dvs += torch.einsum("bhn,bhnd->hd", ps, doc)
        dq[:, :, a:a + nq] = dqc * scale
    return dq, dk * scale, dv, dks * scale, dvs


class ChunkedSinkAttention(torch.autograd.Function):
    """Autograd wrapper: saves only inputs, output and log-sum-exp (linear in sequence length)."""

    @staticmethod
    def forward(ctx, q, k, v, k_sink, v_sink, q_offset, lengths, key_start, scale):
        out, lse = chunked_forward(q, k, v, k_sink, v_sink, q_offset, lengths, key_start, scale)
        ctx.save_for_backward(q, k, v, k_sink, v_sink, out, lse, lengths, key_start)
        ctx.q_offset, ctx.scale = q_offset, scale
        return out

    @staticmethod
    def backward(ctx, do):
        q, k, v, k_sink, v_sink, out, lse, lengths, key_start = ctx.saved_tensors
        dq, dk, dv, dks, dvs = chunked_backward(do, q, k, v, k_sink, v_sink, out, lse, ctx.q_offset,
                                                lengths, key_start, ctx.scale)
        dks = None if k_sink is None else dks.to(k_sink.dtype)
        dvs = None if v_sink is None else dvs.to(v_sink.dtype)
        return dq.to(q.dtype), dk.to(k.dtype), dv.to(v.dtype), dks, dvs, None, None, None, None


def chunked_decode(q, k, v, lengths, k_sink, v_sink, key_start, scale, k_chunk: int = 8192):
    """One query per sequence at position ``lengths - 1`` over a cache: ``q (B, H, D)`` -> ``(B, H, D)``."""
    b, h, d = q.shape
    qf = _acc(q)
    dt = qf.dtype
    if k_sink is not None:
        m = torch.einsum("bhd,hd->bh", qf, _acc(k_sink)) * scale
        l = torch.ones_like(m)
        acc = (torch.zeros(b, h, d, device=q.device, dtype=dt) if v_sink is None
               else _acc(v_sink)[None].expand(b, h, d).clone())
    else:
        m = torch.full((b, h), float("-inf"), device=q.device, dtype=dt)
        l = torch.zeros_like(m)
        acc = torch.zeros(b, h, d, device=q.device, dtype=dt)
    hi = int(lengths.max())
    lo = 0 if key_start is None else (int(key_start.min()) // k_chunk) * k_chunk
    for c0 in range(lo, hi, k_chunk):
        c1 = min(c0 + k_chunk, hi)
        pos = torch.arange(c0, c1, device=q.device)
        ok = pos[None] < lengths[:, None]
        if key_start is not None:
            ok = ok & (pos[None] >= key_start[:, None])
        sc = torch.einsum("bhd,bhsd->bhs", qf, _acc(k[:, :, c0:c1])) * scale
        sc = sc.masked_fill(~ok[:, None], float("-inf"))
        m_new = torch.maximum(m, sc.amax(-1))
        m_safe = m_new.masked_fill(torch.isinf(m_new), 0.0)
        alpha = torch.exp(m - m_safe)
        p = torch.exp(sc - m_safe[..., None])
        l = l * alpha + p.sum(-1)
        acc = acc * alpha[..., None] + torch.einsum("bhs,bhsd->bhd", p, _acc(v[:, :, c0:c1]))
        m = m_new
    return (acc / l.clamp_min(1e-30)[..., None]).to(q.dtype)
