"""The reference itself against the formula written out one query at a time."""
from __future__ import annotations

import math

import torch

from embodied.kernels import reference_attention, reference_decode


def _by_formula(q, k, v, ks, vs, q_offset, lengths, key_start):
    b, h, n, d = q.shape
    out = torch.zeros_like(q)
    for bi in range(b):
        for hi in range(h):
            for i in range(n):
                pos = q_offset + i
                if pos >= lengths[bi]:
                    continue
                lo = 0 if key_start is None else int(key_start[bi, i])
                num = torch.zeros(d, dtype=q.dtype)
                den = 0.0
                if ks is not None:
                    w = math.exp(float(q[bi, hi, i] @ ks[hi]) / math.sqrt(d))
                    den += w
                    if vs is not None:
                        num += w * vs[hi]
                for j in range(lo, pos + 1):
                    w = math.exp(float(q[bi, hi, i] @ k[bi, hi, j]) / math.sqrt(d))
                    num += w * v[bi, hi, j]
                    den += w
                out[bi, hi, i] = num / den
    return out


def test_reference_matches_formula(case):
    c = case(b=2, h=2, n=6, s=9, d=4, sink="kv", ragged=True, window=True)
    q, k, v, ks, vs = (t.detach() for t in c.inputs)
    want = _by_formula(q, k, v, ks, vs, c.q_offset, c.lengths, c.key_start)
    assert torch.allclose(c.out, want, atol=1e-12), f"seed {c.seed}"


def test_reference_without_sink_and_off_by_one(case):
    for sink in ("none", "zero", "k"):
        c = case(b=1, h=1, n=5, s=5, d=4, sink=sink, ragged=False)
        q, k, v, ks, vs = (None if t is None else t.detach() for t in c.inputs)
        assert torch.allclose(c.out, _by_formula(q, k, v, ks, vs, 0, c.lengths, None), atol=1e-12)
    # softmax-off-by-one: the first query sees only itself and the zero sink -> weight e^x / (1 + e^x)
    qk = float(q[0, 0, 0] @ k[0, 0, 0]) / 2.0
    off_by_one = reference_attention(q, k, v, torch.zeros(1, 4, dtype=q.dtype))
    want = v[0, 0, 0] * math.exp(qk) / (1 + math.exp(qk))
    assert torch.allclose(off_by_one[0, 0, 0], want, atol=1e-12)


def test_reference_decode_is_last_row_of_attention(case):
    c = case(b=2, h=2, n=8, s=8, d=8, sink="kv", ragged=False)
    q, k, v, ks, vs = (t.detach() for t in c.inputs)
    dec = reference_decode(q[:, :, -1], k, v, torch.tensor([8, 8]), ks, vs)
    assert torch.allclose(dec, c.out[:, :, -1], atol=1e-12)
