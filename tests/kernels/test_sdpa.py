"""The fused CPU path (torch's flash kernel, the sink as an extra KV slot) against the float64 reference,
and the cases it leaves to the chunked path."""
from __future__ import annotations

import pytest
import torch

from embodied.kernels import sdpa, sink_attention
from attention_cases import SINK_VARIANTS


@pytest.mark.parametrize("sink", SINK_VARIANTS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_whole_sequences_against_reference(case, sink, dtype):
    """Queries = keys (the training pass and the prefill: the kernel's causal mask), ragged lengths."""
    for n in (2, 37, 130):
        case(b=3, h=2, n=n, s=n, d=16, sink=sink, ragged=True).check("sdpa", dtype)


@pytest.mark.parametrize("sink", SINK_VARIANTS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_masked_cases_against_reference(case, sink, dtype):
    """Queries after a prefix and per-query key starts (an explicit mask), ragged lengths."""
    case(b=3, h=2, n=37, s=70, d=16, sink=sink, ragged=True).check("sdpa", dtype)
    case(b=3, h=2, n=50, s=50, d=16, sink=sink, ragged=True, window=True).check("sdpa", dtype)
    case(b=2, h=2, n=24, s=90, d=8, sink=sink, ragged=False, window=True).check("sdpa", dtype)


@pytest.mark.parametrize("window", [False, True])
def test_gradcheck_float64(case, window):
    c = case(b=2, h=2, n=11 if window else 7, s=11, d=4, sink="kv", ragged=True, window=window)
    inputs = [t.detach().clone().requires_grad_(True) for t in c.inputs]

    def fn(q, k, v, ks, vs):
        return sink_attention(q, k, v, ks, vs, q_offset=c.q_offset, lengths=c.lengths, key_start=c.key_start,
                              backend="sdpa")

    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-7, fast_mode=True)


def test_large_masks_are_left_to_the_chunked_path(case, monkeypatch):
    """Past MASK_LIMIT a masked case goes to the chunked path (still exact); whole sequences never do."""
    calls = []
    fused = sdpa.attention
    monkeypatch.setattr(sdpa, "attention", lambda *a: calls.append(a[0].shape) or fused(*a))
    monkeypatch.setattr(sdpa, "MASK_LIMIT", 2 * 24 * 41 - 1)
    case(b=2, h=2, n=24, s=40, d=16, sink="k").check("sdpa", torch.float32)
    case(b=2, h=2, n=40, s=40, d=16, sink="kv", window=True).check("sdpa", torch.float32)
    assert calls == []
    case(b=2, h=2, n=40, s=40, d=16, sink="kv").check("sdpa", torch.float32)
    assert len(calls) == 1


def test_same_as_chunked_path_on_a_policy_sized_case():
    """The two CPU paths agree on a trial-sized float32 case (the learner's numbers change only by rounding)."""
    g = torch.Generator().manual_seed(0)
    b, h, s, d = 2, 4, 700, 32
    q, k, v = (torch.randn(b, h, s, d, generator=g, requires_grad=True) for _ in range(3))
    ks = torch.randn(h, d, generator=g, requires_grad=True)
    grad = torch.randn(b, h, s, d, generator=g)
    results = []
    for backend in ("sdpa", "chunked"):
        out = sink_attention(q, k, v, ks, backend=backend)
        results.append([out, *torch.autograd.grad((out * grad).sum(), (q, k, v, ks))])
    for fused, chunk in zip(*results):
        assert (fused - chunk).abs().max() <= 1e-4 * chunk.abs().max()


def test_whole_sequences_run_only_the_flash_kernel():
    """Forward and backward run torch's flash kernel (blocks, online softmax): no score matrix or mask, no math
    fallback, so a long sequence costs memory linear in its length."""
    s = 2048
    q = torch.randn(1, 2, s, 8, requires_grad=True)
    with torch.profiler.profile(record_shapes=True) as prof:
        sink_attention(q, q, q, torch.zeros(2, 8), backend="sdpa").sum().backward()
    ops = {e.name for e in prof.events()}
    assert {"aten::_scaled_dot_product_flash_attention_for_cpu",
            "aten::_scaled_dot_product_flash_attention_for_cpu_backward"} <= ops
    assert not ops & {"aten::bmm", "aten::_softmax", "aten::_scaled_dot_product_attention_math"}
    square = [e.name for e in prof.events() for shape in e.input_shapes if sum(n >= s for n in shape) >= 2]
    assert square == []


@pytest.mark.parametrize("sink", SINK_VARIANTS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_short_windows_go_in_bands_against_reference(case, sink, dtype, monkeypatch):
    """Windows much shorter than the sequence (episodes in a trial) take the banded layout: whole sequences,
    queries after a prefix, ragged lengths, a last block of padding queries, blocks at their smallest."""
    banded = []
    in_bands = sdpa._in_bands
    monkeypatch.setattr(sdpa, "_in_bands", lambda *a: banded.append(a[-1]) or in_bands(*a))
    case(b=3, h=2, n=150, s=150, d=16, sink=sink, ragged=True, window=9).check("sdpa", dtype)
    case(b=2, h=2, n=70, s=130, d=8, sink=sink, ragged=True, window=20).check("sdpa", dtype)
    case(b=2, h=2, n=100, s=100, d=8, sink=sink, ragged=False, window=2).check("sdpa", dtype)
    assert len(banded) == 3 and max(banded) <= 20


def test_bands_gradcheck_float64(case):
    c = case(b=2, h=2, n=45, s=60, d=4, sink="kv", ragged=True, window=5)
    inputs = [t.detach().clone().requires_grad_(True) for t in c.inputs]

    def fn(q, k, v, ks, vs):
        return sink_attention(q, k, v, ks, vs, q_offset=c.q_offset, lengths=c.lengths, key_start=c.key_start,
                              backend="sdpa")

    assert sdpa.plan(2, 45, 60, c.key_start, c.q_offset, c.lengths) == 5  # banded: 5 keys per window
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-7, fast_mode=True)
