"""The autograd function shared by the attention paths: an implementation module supplies
``forward(q, k, v, k_sink, v_sink, q_offset, lengths, key_start, scale) -> (out, lse)`` and
``backward(do, q, k, v, k_sink, v_sink, out, lse, q_offset, lengths, key_start, scale) -> 5 grads``.

Only the inputs, the output and the log-sum-exp are saved, so memory stays linear in the sequence length.
"""
from __future__ import annotations

from types import ModuleType

import torch


class SinkAttentionFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, impl: ModuleType, q, k, v, k_sink, v_sink, q_offset, lengths, key_start, scale):
        out, lse = impl.forward(q, k, v, k_sink, v_sink, q_offset, lengths, key_start, scale)
        ctx.save_for_backward(q, k, v, k_sink, v_sink, out, lse, lengths, key_start)
        ctx.impl, ctx.q_offset, ctx.scale = impl, q_offset, scale
        return out

    @staticmethod
    def backward(ctx, do):
        q, k, v, k_sink, v_sink, out, lse, lengths, key_start = ctx.saved_tensors
        dq, dk, dv, dks, dvs = ctx.impl.backward(do, q, k, v, k_sink, v_sink, out, lse, ctx.q_offset, lengths,
                                                 key_start, ctx.scale)
        dks = None if k_sink is None else dks.to(k_sink.dtype)
        dvs = None if v_sink is None else dvs.to(v_sink.dtype)
        return None, dq.to(q.dtype), dk.to(k.dtype), dv.to(v.dtype), dks, dvs, None, None, None, None
