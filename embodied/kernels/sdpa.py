"""The fast CPU path: torch's fused flash-attention kernel, with the sink as one more KV slot in front.

Whole sequences without episode windows (the training pass, the prefill) use the kernel's own causal mask,
which skips the blocks above the diagonal: a dummy query in front (its output dropped, it gets no gradient)
puts query ``i`` at row ``i + 1``, where the top-left causal mask shows it the sink (slot 0) and keys
``0..i``. Neither pass builds the N x S score matrix, so memory stays linear in the sequence length.
Other cases (queries after a prefix, per-query key starts) pass an explicit boolean mask, which is N x S:
only up to ``MASK_LIMIT`` elements; beyond it the dispatcher keeps the chunked path. Episode windows much
shorter than the sequence (an episodic attention, a memoryless control: every query sees at most its episode)
go in bands instead: the queries in blocks, each block with only the keys its windows can reach, so the work
is N x (block + widest window) rather than N x S (x8 less for 60-step episodes in a 1024-step trial).
Only the flash kernel is allowed (``sdpa_kernel``), never torch's math fallback. As on the chunked path,
arithmetic is float32 for half and single inputs (float64 stays float64).
"""
from __future__ import annotations

import torch
from torch.nn import functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.functional import scaled_dot_product_attention

from embodied.kernels.reference import valid_rows, visible

MASK_LIMIT = 1 << 24  # largest boolean mask (B x N x S elements, 16 MiB) built for a masked case


def _causal(n: int, s: int, key_start: torch.Tensor | None) -> bool:
    return n == s and key_start is None


def _band(q_offset: int, lengths: torch.Tensor, key_start: torch.Tensor) -> int:
    """How many keys the widest window of a real query spans, itself included (one host sync)."""
    pos = torch.arange(q_offset, q_offset + key_start.shape[1], device=key_start.device)
    reach = (pos - key_start).clamp_min(0).masked_fill(pos >= lengths[:, None], 0)
    return int(reach.max()) + 1


def _block(band: int) -> int:
    """Queries per band block: about the window's width (fewer blocks, each reading twice its queries' keys)."""
    return min(max(16, 1 << (band - 1).bit_length()), 256)


def _banded(s: int, band: int) -> bool:
    """Whether bands read less than half of what the full mask would."""
    return 2 * (_block(band) + band) <= s


def plan(b: int, n: int, s: int, key_start: torch.Tensor | None, q_offset: int = 0,
         lengths: torch.Tensor | None = None) -> int | None:
    """How this path takes the case, decided once per call: ``None`` when it does not (its mask would pass
    ``MASK_LIMIT``), else the band for ``attention``: the widest window's width when the queries go in bands,
    0 for one attention (the kernel's causal mask or a full explicit mask)."""
    if _causal(n, s, key_start):
        return 0
    if key_start is not None and lengths is not None:
        band = _band(q_offset, lengths, key_start)
        if _banded(s, band):
            blk = _block(band)
            return band if b * -(-n // blk) * blk * (blk + band) <= MASK_LIMIT else None
    return 0 if b * n * (s + 1) <= MASK_LIMIT else None


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, k_sink: torch.Tensor | None,
              v_sink: torch.Tensor | None, q_offset: int, lengths: torch.Tensor, key_start: torch.Tensor | None,
              scale: float, band: int = 0) -> torch.Tensor:
    """Sink-KV attention as defined in ``reference.py``, for the cases ``plan`` accepts, laid out as it
    decided (``band``); differentiable."""
    b, h, n, d = q.shape
    s = k.shape[2]
    dtype = q.dtype
    q, k, v = (t.to(torch.promote_types(dtype, torch.float32)) for t in (q, k, v))
    pos_q = torch.arange(q_offset, q_offset + n, device=q.device)
    causal = _causal(n, s, key_start)
    if band:
        return _in_bands(q, k, v, k_sink, v_sink, q_offset, lengths, key_start, scale, band).to(dtype)
    mask = None if causal else visible(pos_q, torch.arange(s, device=q.device), lengths, key_start)
    if k_sink is not None:
        k, v, mask = _prepend_sink(k, v, mask, k_sink, v_sink)
        if causal:
            q = torch.cat([q.new_zeros(b, h, 1, d), q], dim=2)
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        out = scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal, scale=scale)
    if causal and k_sink is not None:
        out = out[:, :, 1:]
    if bool((lengths < q_offset + n).any()):  # padding queries give zero
        out = torch.where(valid_rows(pos_q, lengths), out, 0.0)
    return out.to(dtype)


def _prepend_sink(k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None, k_sink: torch.Tensor,
                  v_sink: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """The sink as key slot 0 (its value zero without ``v_sink``), which every query of ``mask`` sees."""
    b, h, _, d = k.shape
    vs = torch.zeros_like(k_sink) if v_sink is None else v_sink
    k = torch.cat([k_sink.to(k.dtype)[None, :, None].expand(b, h, 1, d), k], dim=2)
    v = torch.cat([vs.to(v.dtype)[None, :, None].expand(b, h, 1, d), v], dim=2)
    if mask is not None:
        mask = torch.cat([mask.new_ones(*mask.shape[:-1], 1), mask], dim=-1)
    return k, v, mask


def _in_bands(q, k, v, k_sink, v_sink, q_offset, lengths, key_start, scale, band):
    """The masked case with every window at most ``band`` keys wide: query block ``c`` (positions
    ``q_offset + c * blk + i``) attends over the ``blk + band - 1`` keys ending at its last query, as one batch
    of small masked attentions (the blocks fold into the batch). Keys before 0 or past the end are padding."""
    b, h, n, d = q.shape
    blk = _block(band)
    nb = -(-n // blk)
    back, width = band - 1, blk + band - 1
    span = (nb - 1) * blk + width  # padded keys the blocks read, from padded slot q_offset (key q_offset - back)
    right = max(0, q_offset + span - back - k.shape[2])

    def blocks_of_keys(t):  # (b, h, s, d) -> (b * nb, h, width, d)
        t = F.pad(t, (0, 0, back, right)).narrow(2, q_offset, span).unfold(2, width, blk)  # (b, h, nb, d, width)
        return t.permute(0, 2, 1, 4, 3).reshape(b * nb, h, width, d)

    pad = nb * blk - n
    qb = F.pad(q, (0, 0, 0, pad)).view(b, h, nb, blk, d).transpose(1, 2).reshape(b * nb, h, blk, d)
    kb, vb = blocks_of_keys(k), blocks_of_keys(v)
    first = torch.arange(nb, device=q.device) * blk + q_offset  # each block's first query position
    pos_q = (first[:, None] + torch.arange(blk, device=q.device)).view(1, nb, blk, 1)
    pos_k = (first[:, None] - back + torch.arange(width, device=q.device)).view(1, nb, 1, width)
    start = F.pad(key_start, (0, pad)).view(b, nb, blk, 1)
    mask = (pos_k <= pos_q) & (pos_k >= start) & (pos_k >= 0) & (pos_k < lengths.view(-1, 1, 1, 1))
    mask = mask.view(b * nb, 1, blk, width)
    if k_sink is None:  # rows that see nothing (padding) would give NaN: they see all, and their output is dropped
        mask = mask | ~mask.any(-1, keepdim=True)
    else:
        kb, vb, mask = _prepend_sink(kb, vb, mask, k_sink, v_sink)
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        out = scaled_dot_product_attention(qb, kb, vb, attn_mask=mask, scale=scale)
    out = out.view(b, nb, h, blk, d).transpose(1, 2).reshape(b, h, nb * blk, d)[:, :, :n]
    pos = torch.arange(q_offset, q_offset + n, device=q.device)
    return torch.where(valid_rows(pos, lengths), out, 0.0)
