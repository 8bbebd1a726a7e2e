"""Triton decode kernel: one new query per sequence over a long KV cache (split-K / flash-decoding).

With one query per sequence a program per (sequence, head) would leave most of a GPU idle and read
the cache with one warp group; instead the keys are split into ``num_splits`` ranges that run in
parallel, each writing a partial (max, normaliser, weighted sum), and a small second kernel merges the
partials together with the sink slot. The work is a streaming read of K and V, so the goal is memory
bandwidth, not FLOP/s; the scores are elementwise products and row sums (a single query row is too
small for tensor-core dots). Query ``b`` sits at position ``lengths[b] - 1`` and sees keys
``[key_start[b], lengths[b])``.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

from embodied.kernels.triton_attention import LOG2E
from embodied.kernels.tuning import Tunable, length_bucket, tile_sizes


@triton.jit
def _split_kernel(Q, K, V, M, L, ACC, LENS, START,
                  sqb, sqh, skb, skh, skn, svb, svh, svn,
                  H, split_size, NUM_SPLITS, scale_log2, LEN_BUCKET,
                  HAS_START: tl.constexpr, D: tl.constexpr, BLOCK_N: tl.constexpr):
    split = tl.program_id(0)
    bh = tl.program_id(1)
    b = bh // H
    h = bh % H
    offs_d = tl.arange(0, D)
    length = tl.load(LENS + b)
    lo = split * split_size
    if HAS_START:
        lo = tl.maximum(lo, (tl.load(START + b) // BLOCK_N) * BLOCK_N)
        first = tl.load(START + b)
    else:
        first = 0
    hi = tl.minimum((split + 1) * split_size, length)
    q = tl.load(Q + b * sqb + h * sqh + offs_d).to(tl.float32) * scale_log2
    m_i = float("-inf")
    l_i = 0.0
    acc = tl.zeros([D], dtype=tl.float32)
    for start_n in range(lo, hi, BLOCK_N):
        offs_n = start_n + tl.arange(0, BLOCK_N)
        see = (offs_n < hi) & (offs_n >= first)
        k = tl.load(K + b * skb + h * skh + offs_n[:, None] * skn + offs_d[None, :], mask=see[:, None], other=0.0)
        v = tl.load(V + b * svb + h * svh + offs_n[:, None] * svn + offs_d[None, :], mask=see[:, None], other=0.0)
        s = tl.where(see, tl.sum(k.to(tl.float32) * q[None, :], 1), float("-inf"))
        m_new = tl.maximum(m_i, tl.max(s, 0))
        m_safe = tl.where(m_new == float("-inf"), 0.0, m_new)
        alpha = tl.exp2(m_i - m_safe)
        p = tl.exp2(s - m_safe)
        l_i = l_i * alpha + tl.sum(p, 0)
        acc = acc * alpha + tl.sum(p[:, None] * v.to(tl.float32), 0)
        m_i = m_new
    tl.store(M + bh * NUM_SPLITS + split, m_i)
    tl.store(L + bh * NUM_SPLITS + split, l_i)
    tl.store(ACC + (bh * NUM_SPLITS + split) * D + offs_d, acc)


@triton.jit
def _merge_kernel(Q, KS, VS, M, L, ACC, O, sqb, sqh, sob, soh, H, NUM_SPLITS, scale_log2,
                  HAS_SINK: tl.constexpr, HAS_VSINK: tl.constexpr, D: tl.constexpr, SPLITS: tl.constexpr):
    bh = tl.program_id(0)
    b = bh // H
    h = bh % H
    offs_d = tl.arange(0, D)
    offs_s = tl.arange(0, SPLITS)
    in_s = offs_s < NUM_SPLITS
    m = tl.load(M + bh * NUM_SPLITS + offs_s, mask=in_s, other=float("-inf"))
    l = tl.load(L + bh * NUM_SPLITS + offs_s, mask=in_s, other=0.0)
    acc = tl.load(ACC + (bh * NUM_SPLITS + offs_s[:, None]) * D + offs_d[None, :], mask=in_s[:, None], other=0.0)
    m_all = tl.max(m, 0)
    if HAS_SINK:
        q = tl.load(Q + b * sqb + h * sqh + offs_d).to(tl.float32)
        ks = tl.load(KS + h * D + offs_d).to(tl.float32)
        m_sink = tl.sum(q * ks, 0) * scale_log2
        m_all = tl.maximum(m_all, m_sink)
    m_safe = tl.where(m_all == float("-inf"), 0.0, m_all)
    w = tl.exp2(m - m_safe)
    total = tl.sum(l * w, 0)
    out = tl.sum(acc * w[:, None], 0)
    if HAS_SINK:
        ws = tl.exp2(m_sink - m_safe)
        total += ws
        if HAS_VSINK:
            out += ws * tl.load(VS + h * D + offs_d).to(tl.float32)
    out = out / tl.where(total > 0, total, 1.0)
    tl.store(O + b * sob + h * soh + offs_d, out.to(O.dtype.element_ty))


_SPLIT = Tunable(_split_kernel, "decode")


def triton_decode(q, k, v, lengths, k_sink, v_sink, key_start, scale, num_splits: int | None = None,
                  max_len: int | None = None):
    """``q (B, H, D)`` over the cache ``k, v (B, H, S, D)`` -> ``(B, H, D)`` in q's dtype; ``max_len`` is
    ``lengths.max()`` when the caller already has it on the host (saves a device sync)."""
    b, h, d = q.shape
    align = max(tile_sizes("decode", "BLOCK_N"))  # splits start on a tile boundary of every candidate tile
    max_len = int(lengths.max()) if max_len is None else max_len
    if num_splits is None:  # ~8 programs per SM (best of 4-256 splits on an H200), each at least 2 tiles long
        sms = torch.cuda.get_device_properties(q.device).multi_processor_count if q.is_cuda else 4
        num_splits = max(1, min(triton.cdiv(8 * sms, b * h), triton.cdiv(max_len, 2 * align)))
    split_size = triton.cdiv(triton.cdiv(max_len, num_splits), align) * align
    num_splits = triton.cdiv(max_len, split_size)
    m = torch.empty(b * h, num_splits, dtype=torch.float32, device=q.device)
    l = torch.empty_like(m)
    acc = torch.empty(b * h, num_splits, d, dtype=torch.float32, device=q.device)
    start = key_start if key_start is not None else lengths
    _SPLIT.launch(
        lambda meta: (num_splits, b * h),
        q, k, v, m, l, acc, lengths, start, q.stride(0), q.stride(1), *k.stride()[:3], *v.stride()[:3],
        h, split_size, num_splits, scale * LOG2E, length_bucket(max_len), HAS_START=key_start is not None, D=d)
    out = torch.empty_like(q)
    _merge_kernel[(b * h,)](
        q, k_sink if k_sink is not None else q, v_sink if v_sink is not None else q, m, l, acc, out,
        q.stride(0), q.stride(1), out.stride(0), out.stride(1), h, num_splits, scale * LOG2E,
        HAS_SINK=k_sink is not None, HAS_VSINK=v_sink is not None, D=d,
        SPLITS=triton.next_power_of_2(num_splits), num_warps=4)
    return out
