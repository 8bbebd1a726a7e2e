"""Triton kernels for Sink-KV attention in training: causal chunk-over-prefix, forward and backward.

Flash-attention style: each program keeps a tile of queries in SRAM and streams tiles of keys with an
online softmax that starts from the sink slot (m = q.k_s, l = 1, acc = v_s), so the sink costs one dot
product per query and never enters the KV tensors. The backward has two kernels: one per key tile
(dk, dv, looping over the queries that see it) and one per query tile (dq, plus this tile's share of
dk_sink and dv_sink, summed afterwards). Inputs in bf16 / fp16 / fp32; products accumulate in fp32.

Numerics (checked by tests/kernels against a float64 reference on random inputs): fp32 inputs use IEEE
fp32 dots (not tf32) and agree to ~1e-6 of the largest reference value (tests allow 2e-4); bf16 / fp16
inputs round the probabilities to the input dtype before the P.V and dS.K products as flash-attention
does, and agree to ~1e-2 (bf16) and ~1e-3 (fp16) of it (tests allow 3e-2 and 1e-2).

Tile sizes and warps come from ``tuning.py`` (autotuned per head dim and length bucket on a GPU).
Under ``TRITON_INTERPRET=1`` (CPU tests) half-precision dots run on fp32 copies of the operands, because
the interpreter mis-computes bf16 ``tl.dot``; the products of two halves are exact in fp32, so this
changes nothing but the order of accumulation.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

from embodied.kernels.tuning import Tunable, interpreting, length_bucket, tile_sizes

LOG2E = 1.4426950408889634


@triton.jit
def _mm(a, b, UPCAST: tl.constexpr, IEEE: tl.constexpr):
    if UPCAST:
        r = tl.dot(a.to(tl.float32), b.to(tl.float32), input_precision="ieee")
    elif IEEE:
        r = tl.dot(a, b, input_precision="ieee")
    else:
        r = tl.dot(a, b)
    return r


@triton.jit
def _query_tile(LENS, H, N, q_offset, D: tl.constexpr, BLOCK_M: tl.constexpr):
    """This program's query tile: ids, offsets, its sequence's length, positions, in-range mask."""
    pid_m = tl.program_id(0)
    bh = tl.program_id(1)
    b = bh // H
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    return pid_m, bh, b, bh % H, offs_m, tl.arange(0, D), tl.load(LENS + b), q_offset + offs_m, offs_m < N


@triton.jit
def _key_window(START, b, stb, offs_m, in_q, N, q_offset, HAS_START: tl.constexpr, BLOCK_M: tl.constexpr,
                BLOCK_N: tl.constexpr):
    """First visible key of each query (``lo_m``) and the key tile where this query tile's loop starts."""
    if HAS_START:
        lo_m = tl.load(START + b * stb + offs_m, mask=in_q, other=0)
        lo = (tl.min(tl.where(in_q, lo_m, N + q_offset), 0) // BLOCK_N) * BLOCK_N
    else:
        lo_m = tl.zeros([BLOCK_M], dtype=tl.int32)
        lo = 0
    return lo_m, lo


@triton.jit
def _fwd_kernel(Q, K, V, KS, VS, O, LSE, LENS, START,
                sqb, sqh, sqn, skb, skh, skn, svb, svh, svn, sob, soh, son, stb,
                H, N, q_offset, scale_log2, LEN_BUCKET,
                HAS_SINK: tl.constexpr, HAS_VSINK: tl.constexpr, HAS_START: tl.constexpr,
                D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                UPCAST: tl.constexpr, IEEE: tl.constexpr):
    pid_m, bh, b, h, offs_m, offs_d, length, pos_m, in_q = _query_tile(LENS, H, N, q_offset, D, BLOCK_M)
    q = tl.load(Q + b * sqb + h * sqh + offs_m[:, None] * sqn + offs_d[None, :], mask=in_q[:, None], other=0.0)
    lo_m, lo = _key_window(START, b, stb, offs_m, in_q, N, q_offset, HAS_START, BLOCK_M, BLOCK_N)
    if HAS_SINK:
        ks = tl.load(KS + h * D + offs_d).to(tl.float32)
        m_i = tl.sum(q.to(tl.float32) * ks[None, :], 1) * scale_log2
        l_i = tl.full([BLOCK_M], 1.0, dtype=tl.float32)
        if HAS_VSINK:
            vs = tl.load(VS + h * D + offs_d).to(tl.float32)
            acc = tl.zeros([BLOCK_M, D], dtype=tl.float32) + vs[None, :]
        else:
            acc = tl.zeros([BLOCK_M, D], dtype=tl.float32)
    else:
        m_i = tl.full([BLOCK_M], float("-inf"), dtype=tl.float32)
        l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
        acc = tl.zeros([BLOCK_M, D], dtype=tl.float32)
    hi = tl.minimum(q_offset + (pid_m + 1) * BLOCK_M, length)
    for start_n in range(lo, hi, BLOCK_N):
        offs_n = start_n + tl.arange(0, BLOCK_N)
        in_k = offs_n < length
        kt = tl.load(K + b * skb + h * skh + offs_n[None, :] * skn + offs_d[:, None], mask=in_k[None, :], other=0.0)
        v = tl.load(V + b * svb + h * svh + offs_n[:, None] * svn + offs_d[None, :], mask=in_k[:, None], other=0.0)
        s = _mm(q, kt, UPCAST, IEEE) * scale_log2
        see = (offs_n[None, :] <= pos_m[:, None]) & in_k[None, :] & (offs_n[None, :] >= lo_m[:, None])
        s = tl.where(see, s, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(s, 1))
        m_safe = tl.where(m_new == float("-inf"), 0.0, m_new)
        alpha = tl.exp2(m_i - m_safe)
        p = tl.exp2(s - m_safe[:, None])
        l_i = l_i * alpha + tl.sum(p, 1)
        acc = acc * alpha[:, None] + _mm(p.to(v.dtype), v, UPCAST, IEEE)
        m_i = m_new
    ok = in_q & (pos_m < length) & (l_i > 0)
    out = tl.where(ok[:, None], acc / tl.where(ok, l_i, 1.0)[:, None], 0.0)
    tl.store(O + b * sob + h * soh + offs_m[:, None] * son + offs_d[None, :], out.to(O.dtype.element_ty),
             mask=in_q[:, None])
    lse = tl.where(ok, m_i + tl.log2(tl.where(ok, l_i, 1.0)), 0.0)
    tl.store(LSE + bh * N + offs_m, lse, mask=in_q)


@triton.jit
def _bwd_dkdv_kernel(Q, K, V, DO, LSE, DELTA, DK, DV, LENS, START,
                     sqb, sqh, sqn, skb, skh, skn, svb, svh, svn, sob, soh, son, stb,
                     H, N, S, q_offset, scale, scale_log2, LEN_BUCKET,
                     HAS_START: tl.constexpr, D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                     UPCAST: tl.constexpr, IEEE: tl.constexpr):
    pid_n = tl.program_id(0)
    bh = tl.program_id(1)
    b = bh // H
    h = bh % H
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, D)
    length = tl.load(LENS + b)
    in_k = offs_n < length
    k = tl.load(K + b * skb + h * skh + offs_n[:, None] * skn + offs_d[None, :], mask=in_k[:, None], other=0.0)
    v = tl.load(V + b * svb + h * svh + offs_n[:, None] * svn + offs_d[None, :], mask=in_k[:, None], other=0.0)
    dk = tl.zeros([BLOCK_N, D], dtype=tl.float32)
    dv = tl.zeros([BLOCK_N, D], dtype=tl.float32)
    first = tl.maximum(pid_n * BLOCK_N - q_offset, 0)
    for start_m in range((first // BLOCK_M) * BLOCK_M, N, BLOCK_M):
        offs_m = start_m + tl.arange(0, BLOCK_M)
        pos_m = q_offset + offs_m
        row = (offs_m < N) & (pos_m < length)
        qt = tl.load(Q + b * sqb + h * sqh + offs_m[None, :] * sqn + offs_d[:, None], mask=row[None, :], other=0.0)
        dot_ = tl.load(DO + b * sob + h * soh + offs_m[None, :] * son + offs_d[:, None], mask=row[None, :], other=0.0)
        lse = tl.load(LSE + bh * N + offs_m, mask=row, other=0.0)
        delta = tl.load(DELTA + bh * N + offs_m, mask=row, other=0.0)
        see = (offs_n[:, None] <= pos_m[None, :]) & row[None, :] & in_k[:, None]
        if HAS_START:
            lo_m = tl.load(START + b * stb + offs_m, mask=offs_m < N, other=0)
            see = see & (offs_n[:, None] >= lo_m[None, :])
        pt = tl.exp2(_mm(k, qt, UPCAST, IEEE) * scale_log2 - lse[None, :])
        pt = tl.where(see, pt, 0.0)
        dv += _mm(pt.to(dot_.dtype), tl.trans(dot_), UPCAST, IEEE)
        dpt = _mm(v, dot_, UPCAST, IEEE)
        dst = pt * (dpt - delta[None, :])
        dk += _mm(dst.to(qt.dtype), tl.trans(qt), UPCAST, IEEE)
    in_s = offs_n < S
    tl.store(DK + bh * S * D + offs_n[:, None] * D + offs_d[None, :], dk * scale, mask=in_s[:, None])
    tl.store(DV + bh * S * D + offs_n[:, None] * D + offs_d[None, :], dv, mask=in_s[:, None])


@triton.jit
def _bwd_dq_kernel(Q, K, V, KS, VS, DO, LSE, DELTA, DQ, DKS, DVS, LENS, START,
                   sqb, sqh, sqn, skb, skh, skn, svb, svh, svn, sob, soh, son, stb,
                   H, N, q_offset, scale, scale_log2, NUM_M, LEN_BUCKET,
                   HAS_SINK: tl.constexpr, HAS_VSINK: tl.constexpr, HAS_START: tl.constexpr,
                   D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                   UPCAST: tl.constexpr, IEEE: tl.constexpr):
    pid_m, bh, b, h, offs_m, offs_d, length, pos_m, in_q = _query_tile(LENS, H, N, q_offset, D, BLOCK_M)
    row = in_q & (pos_m < length)
    q = tl.load(Q + b * sqb + h * sqh + offs_m[:, None] * sqn + offs_d[None, :], mask=row[:, None], other=0.0)
    do = tl.load(DO + b * sob + h * soh + offs_m[:, None] * son + offs_d[None, :], mask=row[:, None], other=0.0)
    lse = tl.load(LSE + bh * N + offs_m, mask=row, other=0.0)
    delta = tl.load(DELTA + bh * N + offs_m, mask=row, other=0.0)
    lo_m, lo = _key_window(START, b, stb, offs_m, in_q, N, q_offset, HAS_START, BLOCK_M, BLOCK_N)
    dq = tl.zeros([BLOCK_M, D], dtype=tl.float32)
    hi = tl.minimum(q_offset + (pid_m + 1) * BLOCK_M, length)
    for start_n in range(lo, hi, BLOCK_N):
        offs_n = start_n + tl.arange(0, BLOCK_N)
        in_k = offs_n < length
        kt = tl.load(K + b * skb + h * skh + offs_n[None, :] * skn + offs_d[:, None], mask=in_k[None, :], other=0.0)
        vt = tl.load(V + b * svb + h * svh + offs_n[None, :] * svn + offs_d[:, None], mask=in_k[None, :], other=0.0)
        see = (offs_n[None, :] <= pos_m[:, None]) & in_k[None, :] & row[:, None] & (offs_n[None, :] >= lo_m[:, None])
        p = tl.where(see, tl.exp2(_mm(q, kt, UPCAST, IEEE) * scale_log2 - lse[:, None]), 0.0)
        ds = p * (_mm(do, vt, UPCAST, IEEE) - delta[:, None])
        dq += _mm(ds.to(kt.dtype), tl.trans(kt), UPCAST, IEEE)
    if HAS_SINK:
        ks = tl.load(KS + h * D + offs_d).to(tl.float32)
        qf = q.to(tl.float32)
        dof = do.to(tl.float32)
        ps = tl.where(row, tl.exp2(tl.sum(qf * ks[None, :], 1) * scale_log2 - lse), 0.0)
        if HAS_VSINK:
            vs = tl.load(VS + h * D + offs_d).to(tl.float32)
            dss = ps * (tl.sum(dof * vs[None, :], 1) - delta)
            tl.store(DVS + (bh * NUM_M + pid_m) * D + offs_d, tl.sum(ps[:, None] * dof, 0))
        else:
            dss = ps * (0.0 - delta)
        dq += dss[:, None] * ks[None, :]
        tl.store(DKS + (bh * NUM_M + pid_m) * D + offs_d, tl.sum(dss[:, None] * qf, 0) * scale)
    tl.store(DQ + bh * N * D + offs_m[:, None] * D + offs_d[None, :], dq * scale, mask=in_q[:, None])


def check_head_dim(d: int) -> None:
    """The kernels tile the head dimension whole: it must be a power of two in [16, 256]."""
    if d < 16 or d > 256 or d & (d - 1):
        raise ValueError(f"head_dim={d} is not supported by the Triton kernels; use a power of two in [16, 256]")


def _strides(*tensors):
    return [s for t in tensors for s in t.stride()[:3]]


_FWD = Tunable(_fwd_kernel, "fwd")
_BWD_DKDV = Tunable(_bwd_dkdv_kernel, "bwd")
_BWD_DQ = Tunable(_bwd_dq_kernel, "bwd")


def _flags(q: torch.Tensor) -> dict:
    return dict(D=q.shape[-1], UPCAST=interpreting() and q.dtype != torch.float32, IEEE=q.dtype == torch.float32)


def forward(q, k, v, k_sink, v_sink, q_offset, lengths, key_start, scale):
    b, h, n, d = q.shape
    out = torch.empty_like(q)
    lse = torch.empty(b, h, n, dtype=torch.float32, device=q.device)
    start = key_start if key_start is not None else lengths
    _FWD.launch(
        lambda meta: (triton.cdiv(n, meta["BLOCK_M"]), b * h),
        q, k, v, k_sink if k_sink is not None else q, v_sink if v_sink is not None else q, out, lse, lengths, start,
        *_strides(q, k, v, out), start.stride(0),
        h, n, q_offset, scale * LOG2E, length_bucket(k.shape[2]),
        HAS_SINK=k_sink is not None, HAS_VSINK=v_sink is not None, HAS_START=key_start is not None, **_flags(q))
    return out, lse


def backward(do, q, k, v, k_sink, v_sink, out, lse, q_offset, lengths, key_start, scale):
    b, h, n, d = q.shape
    s = k.shape[2]
    do = do.contiguous()
    delta = (do.float() * out.float()).sum(-1).contiguous()
    start = key_start if key_start is not None else lengths
    bucket = length_bucket(s)
    dk = torch.empty(b, h, s, d, dtype=torch.float32, device=q.device)
    dv = torch.empty_like(dk)
    _BWD_DKDV.launch(
        lambda meta: (triton.cdiv(s, meta["BLOCK_N"]), b * h),
        q, k, v, do, lse, delta, dk, dv, lengths, start, *_strides(q, k, v, do), start.stride(0),
        h, n, s, q_offset, scale, scale * LOG2E, bucket, HAS_START=key_start is not None, **_flags(q))
    num_m = triton.cdiv(n, min(tile_sizes("bwd", "BLOCK_M")))  # rows for the smallest query tile; others stay 0
    dq = torch.empty(b, h, n, d, dtype=torch.float32, device=q.device)
    dks = torch.zeros(b, h, num_m, d, dtype=torch.float32, device=q.device)
    dvs = torch.zeros_like(dks)
    _BWD_DQ.launch(
        lambda meta: (triton.cdiv(n, meta["BLOCK_M"]), b * h),
        q, k, v, k_sink if k_sink is not None else q, v_sink if v_sink is not None else q, do, lse, delta,
        dq, dks, dvs, lengths, start, *_strides(q, k, v, do), start.stride(0),
        h, n, q_offset, scale, scale * LOG2E, num_m, bucket,
        HAS_SINK=k_sink is not None, HAS_VSINK=v_sink is not None, HAS_START=key_start is not None, **_flags(q))
    return dq, dk, dv, dks.sum((0, 2)), dvs.sum((0, 2))
