"""The fast CPU path: torch's fused flash-attention kernel, with the sink as one more KV slot in front.

Whole sequences without episode windows (the training pass, the prefill) use the kernel's own causal mask,
which skips the blocks above the diagonal: a dummy query in front (its output dropped, it gets no gradient)
puts query ``i`` at row ``i + 1``, where the top-left causal mask shows it the sink (slot 0) and keys
``0..i``. Neither pass builds the N x S score matrix, so memory stays linear in the sequence length.
Other cases (queries after a prefix, per-query key starts) pass an explicit boolean mask, which is N x S:
only up to ``MASK_LIMIT`` elements; beyond it the dispatcher keeps the chunked path.
Only the flash kernel is allowed (``sdpa_kernel``), never torch's math fallback. As on the chunked path,
arithmetic is float32 for half and single inputs (float64 stays float64).
"""
from __future__ import annotations

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.functional import scaled_dot_product_attention

from embodied.kernels.reference import valid_rows, visible

MASK_LIMIT = 1 << 24  # largest boolean mask (B x N x S elements, 16 MiB) built for a masked case


def _causal(n: int, s: int, key_start: torch.Tensor | None) -> bool:
    return n == s and key_start is None


def applies(b: int, n: int, s: int, key_start: torch.Tensor | None) -> bool:
    """Whether this path takes the case: the kernel's causal mask fits, or the explicit mask is small enough."""
    return _causal(n, s, key_start) or b * n * (s + 1) <= MASK_LIMIT


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, k_sink: torch.Tensor | None,
              v_sink: torch.Tensor | None, q_offset: int, lengths: torch.Tensor, key_start: torch.Tensor | None,
              scale: float) -> torch.Tensor:
    """Sink-KV attention as defined in ``reference.py``, for the cases ``applies`` accepts; differentiable."""
    b, h, n, d = q.shape
    s = k.shape[2]
    dtype = q.dtype
    q, k, v = (t.to(torch.promote_types(dtype, torch.float32)) for t in (q, k, v))
    pos_q = torch.arange(q_offset, q_offset + n, device=q.device)
    causal = _causal(n, s, key_start)
    mask = None if causal else visible(pos_q, torch.arange(s, device=q.device), lengths, key_start)
    if k_sink is not None:
        vs = torch.zeros_like(k_sink) if v_sink is None else v_sink
        k = torch.cat([k_sink.to(k.dtype)[None, :, None].expand(b, h, 1, d), k], dim=2)
        v = torch.cat([vs.to(v.dtype)[None, :, None].expand(b, h, 1, d), v], dim=2)
        if causal:
            q = torch.cat([q.new_zeros(b, h, 1, d), q], dim=2)
        else:
            mask = torch.cat([mask.new_ones(b, 1, n, 1), mask], dim=-1)
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        out = scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal, scale=scale)
    if causal and k_sink is not None:
        out = out[:, :, 1:]
    if bool((lengths < q_offset + n).any()):  # padding queries give zero
        out = torch.where(valid_rows(pos_q, lengths), out, 0.0)
    return out.to(dtype)
