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
        """``x / rms(x)`` in float32 (torch's fused op: fewer kernels and a cheaper backward), then the weight."""
        return nn.functional.rms_norm(upcast(x), x.shape[-1:], eps=self.eps).to(x.dtype) * self.weight


class SwiGLU(nn.Module):
    """``W2 (silu(W1 x) * W3 x)``, no biases."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(nn.functional.silu(self.w1(x)) * self.w3(x))


def rope(pos: torch.Tensor, dim: int, theta: float, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotary ``(cos, sin)``, each ``(B, 1, T, dim / 2)``, at integer positions ``pos (B, T)``; computed once
    for the queries and keys of a layer.

    Positions are episode indices within the trial: they grow with the number of episodes, not of steps.
    """
    dtype = torch.promote_types(dtype, torch.float32)
    inv = theta ** (-torch.arange(0, dim // 2, device=pos.device, dtype=dtype) * 2 / dim)
    ang = pos.to(dtype)[:, None, :, None] * inv
    return ang.cos(), ang.sin()


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary embedding of ``x (B, H, T, D)`` by the angles of ``rope`` (half-split pairs), in float32 at least."""
    d = x.shape[-1]
    xf = upcast(x)
    x1, x2 = xf[..., : d // 2], xf[..., d // 2:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).to(x.dtype)
