"""LLaMA-style building blocks: RMSNorm, SwiGLU MLP, rotary embedding over an integer position."""
from __future__ import annotations

import torch
from torch import nn


def upcast(x: torch.Tensor) -> torch.Tensor:
    """At least float32 (half-precision activations are normalised / rotated in float32)."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = upcast(x)
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype) * self.weight


class SwiGLU(nn.Module):
    """``W2 (silu(W1 x) * W3 x)``, no biases."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(nn.functional.silu(self.w1(x)) * self.w3(x))


def rotate(x: torch.Tensor, pos: torch.Tensor, theta: float) -> torch.Tensor:
    """Rotary embedding of ``x (B, H, T, D)`` at integer positions ``pos (B, T)`` (half-split pairs).

    Positions are episode indices within the trial, so they stay small however long the context is.
    """
    d = x.shape[-1]
    xf = upcast(x)
    inv = theta ** (-torch.arange(0, d // 2, device=x.device, dtype=xf.dtype) * 2 / d)
    ang = pos.to(xf.dtype)[:, None, :, None] * inv
    cos, sin = ang.cos(), ang.sin()
    x1, x2 = xf[..., : d // 2], xf[..., d // 2:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).to(x.dtype)
