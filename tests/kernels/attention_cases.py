"""Random Sink-KV attention cases and their float64 reference results, shared by the kernel tests.

Inputs are fresh each run (seed from the OS, printed in failure messages so a failure can be replayed).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from embodied.kernels import reference_attention, sink_attention

# Relative tolerance (max abs error / max abs reference) per input dtype; see triton_attention.py.
TOL = {torch.float32: 2e-4, torch.bfloat16: 3e-2, torch.float16: 1e-2}
SINK_VARIANTS = ("none", "token", "k", "kv", "zero")


@dataclass
class Case:
    seed: int
    inputs: list  # q, k, v, k_sink, v_sink (float64; sinks may be None)
    q_offset: int
    lengths: torch.Tensor
    key_start: torch.Tensor | None
    grad_out: torch.Tensor
    out: torch.Tensor

    def check(self, backend: str, dtype: torch.dtype) -> None:
        """Run ``sink_attention`` on ``backend`` in ``dtype``; compare output and every gradient with the float64
        reference on the same inputs, rounded to ``dtype`` as the kernel sees them (the rounding of the inputs
        is not the kernel's error: on the shortest sequences it alone moved bfloat16 gradients by 4e-2)."""
        cast = [None if t is None else t.detach().to(dtype).requires_grad_(True) for t in self.inputs]
        out = sink_attention(*cast, q_offset=self.q_offset, lengths=self.lengths, key_start=self.key_start,
                             backend=backend)
        leaves = [t for t in cast if t is not None]
        grads = torch.autograd.grad((out.double() * self.grad_out).sum(), leaves)
        rounded = [None if t is None else t.detach().double().requires_grad_(True) for t in cast]
        want_out = reference_attention(*rounded, q_offset=self.q_offset, lengths=self.lengths, key_start=self.key_start)
        grad_out = self.grad_out.to(dtype).double()  # what the kernel's backward receives
        want_grads = torch.autograd.grad((want_out * grad_out).sum(), [t for t in rounded if t is not None])
        names = [n for n, t in zip(("out", "dq", "dk", "dv", "dk_sink", "dv_sink"), [out] + cast) if t is not None]
        for name, got, want in zip(names, [out] + list(grads), [want_out] + list(want_grads)):
            err = (got.double() - want).abs().max().item() / max(want.abs().max().item(), 1e-12)
            assert err <= TOL[dtype], f"{backend} {dtype} {name}: rel err {err:.2e} > {TOL[dtype]} (seed {self.seed})"


def make_case(b=2, h=2, n=24, s=40, d=16, sink="k", ragged=True, window: bool | int = False, seed=None,
              device="cpu") -> Case:
    """Queries at [s - n, s) over s keys; ``ragged``: sequence 1 is shorter; ``window``: per-query key starts
    (an int: windows of at most that many keys, as episodes much shorter than the sequence give).
    Inputs are drawn on the CPU (the same for a seed everywhere); the case and its reference live on ``device``.

    The sink variants appear as the kernels see them: ``token`` gives learned k_s and v_s (the model
    projects a token), ``zero`` gives k_s = 0 and no v_s.
    """
    seed = random.SystemRandom().randrange(2**31) if seed is None else seed
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64).to(device)

    q, k, v = rnd(b, h, n, d), rnd(b, h, s, d), rnd(b, h, s, d)
    k_sink = {"none": None, "zero": torch.zeros(h, d, dtype=torch.float64, device=device)}.get(sink, rnd(h, d) * 2)
    v_sink = rnd(h, d) if sink in ("kv", "token") else None
    lengths = torch.full((b,), s, dtype=torch.long)
    if ragged:
        lengths[1:] = torch.randint(s - n + 1, s, (b - 1,), generator=g)
    q_offset = s - n
    key_start = None
    if window:
        pos = torch.arange(n) + q_offset
        widest = s if window is True else int(window)
        key_start = (pos - torch.randint(0, widest, (b, n), generator=g)).clamp_min(0).to(device)
    lengths = lengths.to(device)
    inputs = [q, k, v, k_sink, v_sink if sink != "zero" else None]
    out = reference_attention(*inputs, q_offset=q_offset, lengths=lengths, key_start=key_start)
    grad_out = rnd(*out.shape)
    return Case(seed, inputs, q_offset, lengths, key_start, grad_out, out)
