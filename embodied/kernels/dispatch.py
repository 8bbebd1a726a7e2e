"""The one entry point the model calls: checks arguments and picks Triton on CUDA, the CPU paths elsewhere
(or the path named by ``backend`` / ``EMBODIED_ATTENTION``, for tests and benchmarks).

On the CPU, ``sdpa`` (the default) runs torch's fused flash kernel (``sdpa.py``): always for whole sequences
without episode windows (the training pass, the prefill), for short episode windows in bands, otherwise while
its explicit mask stays small; the chunked path takes the rest, and decoding (from the earliest window's first
key). ``chunked`` always runs the chunked path."""
from __future__ import annotations

import os

import torch

from embodied.kernels import chunked, sdpa
from embodied.kernels.chunked import chunked_decode
from embodied.kernels.function import SinkAttentionFunction
from embodied.kernels.reference import reference_attention, reference_decode

BACKENDS = ("auto", "triton", "sdpa", "chunked", "reference")


def _backend(backend: str | None, device: torch.device) -> str:
    backend = backend or os.environ.get("EMBODIED_ATTENTION", "auto")
    if backend not in BACKENDS:
        raise ValueError(f"attention backend {backend!r} is unknown; allowed: {list(BACKENDS)}")
    if backend == "auto":
        return "triton" if device.type == "cuda" else "sdpa"
    return backend


def _check(q, k, v, k_sink, v_sink, lengths, key_start, n_query_dims):
    if k.shape != v.shape or q.shape[:2] != k.shape[:2] or q.shape[-1] != k.shape[-1]:
        raise ValueError(f"attention shapes disagree: q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}; "
                         "expected q (B, H, N, D) [decode: (B, H, D)] and k = v (B, H, S, D)")
    if not q.dtype == k.dtype == v.dtype:
        raise ValueError(f"q, k, v dtypes differ: {q.dtype}, {k.dtype}, {v.dtype}")
    h, d = q.shape[1], q.shape[-1]
    for name, t in (("k_sink", k_sink), ("v_sink", v_sink)):
        if t is not None and tuple(t.shape) != (h, d):
            raise ValueError(f"{name} has shape {tuple(t.shape)}; expected (heads, head_dim) = {(h, d)}")
    if v_sink is not None and k_sink is None:
        raise ValueError("v_sink without k_sink: a sink value needs a sink key (use zeros for k = 0)")
    if lengths.shape != (q.shape[0],):
        raise ValueError(f"lengths has shape {tuple(lengths.shape)}; expected ({q.shape[0]},)")
    if key_start is not None and tuple(key_start.shape) != tuple(q.shape[:1]) + tuple(q.shape[2:2 + n_query_dims]):
        raise ValueError(f"key_start has shape {tuple(key_start.shape)}; expected one entry per query")


def _int32(t: torch.Tensor | None) -> torch.Tensor | None:
    return None if t is None else t.to(torch.int32).contiguous()


def sink_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                   k_sink: torch.Tensor | None = None, v_sink: torch.Tensor | None = None, *,
                   q_offset: int | None = None, lengths: torch.Tensor | None = None,
                   key_start: torch.Tensor | None = None, scale: float | None = None,
                   backend: str | None = None) -> torch.Tensor:
    """Causal Sink-KV attention of ``q (B, H, N, D)`` at positions ``[q_offset, q_offset + N)`` over keys
    ``k, v (B, H, S, D)``; differentiable in q, k, v, k_sink, v_sink. See ``reference.py`` for the
    definition. ``q_offset`` defaults to ``S - N`` (the queries are the last N keys' positions)."""
    b, h, n, d = q.shape
    s = k.shape[2]
    q_offset = s - n if q_offset is None else int(q_offset)
    if q_offset < 0 or q_offset + n > s:
        raise ValueError(f"queries at [{q_offset}, {q_offset + n}) fall outside the {s} keys")
    if lengths is None:
        lengths = torch.full((b,), s, dtype=torch.int32, device=q.device)
    _check(q, k, v, k_sink, v_sink, lengths, key_start, 1)
    scale = d ** -0.5 if scale is None else float(scale)
    path = _backend(backend, q.device)
    if path == "reference":
        return reference_attention(q, k, v, k_sink, v_sink, q_offset, lengths, key_start, scale)
    if path == "triton":
        from embodied.kernels import triton_attention
        triton_attention.check_head_dim(d)
        q, k, v = (t.contiguous() if t.stride(-1) != 1 else t for t in (q, k, v))
        return SinkAttentionFunction.apply(triton_attention, q, k, v, _contig(k_sink), _contig(v_sink), q_offset,
                                           _int32(lengths), _int32(key_start), scale)
    if path == "sdpa" and (band := sdpa.plan(b, n, s, key_start, q_offset, lengths)) is not None:
        return sdpa.attention(q, k, v, k_sink, v_sink, q_offset, lengths, key_start, scale, band)
    return SinkAttentionFunction.apply(chunked, q, k, v, k_sink, v_sink, q_offset, lengths.long(),
                                       None if key_start is None else key_start.long(), scale)


def _contig(t: torch.Tensor | None) -> torch.Tensor | None:
    return None if t is None else t.contiguous()


def sink_decode(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, lengths: torch.Tensor,
                k_sink: torch.Tensor | None = None, v_sink: torch.Tensor | None = None, *,
                key_start: torch.Tensor | None = None, scale: float | None = None,
                backend: str | None = None) -> torch.Tensor:
    """Inference: one query per sequence ``q (B, H, D)``, at position ``lengths[b] - 1``, over a KV cache
    ``k, v (B, H, S_max, D)`` whose first ``lengths[b]`` slots are filled (the query's own key included).
    Not differentiable on the Triton path."""
    if q.dim() != 3:
        raise ValueError(f"decode query has shape {tuple(q.shape)}; expected (B, H, D)")
    _check(q, k, v, k_sink, v_sink, lengths, key_start, 0)
    low, high = torch.aminmax(lengths)
    low, high = torch.stack([low, high]).tolist()  # one host sync per call: a decode step is ~0.1-0.5 ms on a GPU
    if low < 1 or high > k.shape[2]:
        raise ValueError(f"decode lengths must lie in [1, {k.shape[2]}] (the cache size); got [{low}, {high}]")
    scale = q.shape[-1] ** -0.5 if scale is None else float(scale)
    path = _backend(backend, q.device)
    if path == "reference":
        return reference_decode(q, k, v, lengths, k_sink, v_sink, key_start, scale)
    if path == "triton":
        from embodied.kernels.triton_attention import check_head_dim
        from embodied.kernels.triton_decode import triton_decode
        check_head_dim(q.shape[-1])
        k, v = (t.contiguous() if t.stride(-1) != 1 else t for t in (k, v))
        return triton_decode(q.contiguous(), k, v, _int32(lengths), _contig(k_sink), _contig(v_sink),
                             _int32(key_start), scale, max_len=high)
    return chunked_decode(q, k, v, lengths.long(), k_sink, v_sink,
                          None if key_start is None else key_start.long(), scale)
