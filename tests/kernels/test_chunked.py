"""The CPU path (chunked online softmax with its own backward) against the float64 reference."""
from __future__ import annotations

import pytest
import torch

from embodied.kernels import chunked, reference_decode, sink_attention, sink_decode
from attention_cases import SINK_VARIANTS, TOL


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks much smaller than the sequences, so the online softmax crosses many chunk borders."""
    monkeypatch.setattr(chunked, "Q_CHUNK", 8)
    monkeypatch.setattr(chunked, "K_CHUNK", 16)


@pytest.mark.parametrize("sink", SINK_VARIANTS)
def test_forward_and_gradients_fp32(case, small_chunks, sink):
    case(b=3, h=2, n=37, s=70, d=16, sink=sink, ragged=True).check("chunked", torch.float32)


def test_full_sequence_and_episode_windows(case, small_chunks):
    case(b=2, h=3, n=50, s=50, d=8, sink="kv", ragged=True).check("chunked", torch.float32)
    case(b=2, h=2, n=40, s=64, d=16, sink="k", ragged=True, window=True).check("chunked", torch.float32)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision(case, small_chunks, dtype):
    case(b=2, h=2, n=33, s=45, d=32, sink="kv", ragged=True).check("chunked", dtype)


def test_gradcheck_float64(case, small_chunks):
    """Finite differences on every input, sinks included (float64 stays float64 on this path)."""
    c = case(b=1, h=2, n=12, s=20, d=4, sink="kv", ragged=False, window=True)
    inputs = [t.detach().clone().requires_grad_(True) for t in c.inputs]

    def fn(q, k, v, ks, vs):
        return sink_attention(q, k, v, ks, vs, key_start=c.key_start, backend="chunked")

    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-7, fast_mode=True)


def _decode_case(b, h, s, d, sink, window, g):
    q, k, v = (torch.randn(*shape, generator=g) for shape in ((b, h, d), (b, h, s, d), (b, h, s, d)))
    ks = None if sink == "none" else (torch.zeros(h, d) if sink == "zero" else torch.randn(h, d, generator=g))
    vs = torch.randn(h, d, generator=g) if sink in ("kv", "token") else None
    lengths = torch.randint(1, s + 1, (b,), generator=g)
    lengths[0] = s
    start = (lengths - 1 - torch.randint(0, s, (b,), generator=g)).clamp_min(0) if window else None
    return q, k, v, lengths, ks, vs, start


@pytest.mark.parametrize("sink", SINK_VARIANTS)
def test_decode(sink):
    g = torch.Generator().manual_seed(torch.seed() % 2**31)
    q, k, v, lengths, ks, vs, start = _decode_case(4, 2, 300, 16, sink, sink == "kv", g)
    want = reference_decode(q.double(), k.double(), v.double(), lengths, None if ks is None else ks.double(),
                            None if vs is None else vs.double(), start)
    got = sink_decode(q, k, v, lengths, ks, vs, key_start=start, backend="chunked")
    assert (got.double() - want).abs().max() / want.abs().max() <= TOL[torch.float32]


def test_memory_is_linear_in_length():
    """Saved tensors for backward are inputs, output and log-sum-exp: no N x S matrix is kept."""
    n, h, d = 2048, 2, 16
    q, k, v = (torch.randn(1, h, n, d, requires_grad=True) for _ in range(3))
    saved = []

    def pack(t):
        saved.append(t.numel())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        sink_attention(q, k, v, torch.randn(h, d), backend="chunked")
    assert max(saved) <= n * h * d and sum(saved) < 8 * n * h * d


def test_decode_over_64k_keys():
    """The inference case the policy meets at the end of a 64k-step trial, against float64."""
    g = torch.Generator().manual_seed(torch.seed() % 2**31)
    q, k, v, lengths, ks, vs, _ = _decode_case(2, 2, 65536, 16, "kv", False, g)
    lengths[1] = 65536 - 1000
    want = reference_decode(q.double(), k.double(), v.double(), lengths, ks.double(), vs.double())
    got = sink_decode(q, k, v, lengths, ks, vs)
    assert (got.double() - want).abs().max() / want.abs().max() <= TOL[torch.float32]


def test_decode_reads_from_the_earliest_window_across_chunk_borders():
    """Episode windows that start late and mid-chunk (an episodic attention near the end of a long trial):
    the keys read begin at the earliest window, and the result still equals the float64 reference."""
    g = torch.Generator().manual_seed(torch.seed() % 2**31)
    q, k, v, _, ks, vs, _ = _decode_case(5, 2, 400, 16, "kv", False, g)
    lengths = torch.tensor([400, 400, 397, 350, 381])
    start = lengths - torch.tensor([1, 60, 23, 5, 44])
    want = reference_decode(q.double(), k.double(), v.double(), lengths, ks.double(), vs.double(), start)
    for k_chunk in (7, 64, 8192):
        got = chunked.chunked_decode(q, k, v, lengths, ks, vs, start, 16 ** -0.5, k_chunk=k_chunk)
        assert (got.double() - want).abs().max() / want.abs().max() <= TOL[torch.float32], k_chunk
    k[:, :, :start.min()] = v[:, :, :start.min()] = float("nan")  # slots before every window are never read
    got = chunked.chunked_decode(q, k, v, lengths, ks, vs, start, 16 ** -0.5)
    assert torch.isfinite(got).all()
