"""The Triton kernels run on the CPU through ``TRITON_INTERPRET=1``, against the float64 reference.

The interpreter is chosen when a kernel is decorated, so the variable is set before the kernel modules
are imported (and they are re-imported if something loaded them earlier without it).
"""
from __future__ import annotations

import importlib
import os
import sys

os.environ["TRITON_INTERPRET"] = "1"

import pytest  # noqa: E402
import torch  # noqa: E402

from attention_cases import SINK_VARIANTS, TOL  # noqa: E402
from embodied.kernels import reference_decode, sink_decode  # noqa: E402

for _name in ("embodied.kernels.triton_attention", "embodied.kernels.triton_decode"):
    if _name in sys.modules:
        importlib.reload(sys.modules[_name])
triton_attention = importlib.import_module("embodied.kernels.triton_attention")
triton_decode = importlib.import_module("embodied.kernels.triton_decode")


def test_kernels_are_interpreted_with_one_tile_config():
    assert triton_attention.interpreting()
    assert type(triton_attention._fwd_kernel).__name__ == "InterpretedFunction"
    for tunable in (triton_attention._FWD, triton_attention._BWD_DQ, triton_decode._SPLIT):
        assert len(tunable.tuned.configs) == 1  # the interpreter times nothing


# What the kernels see of a variant: no sink, a sink key only (k, zero) or a key and a value (kv, token).
# The fast tests take one of each; the slow sweep takes all five.
KERNEL_CASES = ("none", "k", "kv")


@pytest.mark.parametrize("sink", KERNEL_CASES)
def test_forward_and_gradients_fp32(case, sink):
    """Chunk over a prefix (queries at [s - n, s)), ragged lengths, each kind of sink slot."""
    case(b=2, h=2, n=37, s=53, d=16, sink=sink, ragged=True).check("triton", torch.float32)


def test_episode_windows_fp32(case):
    case(b=2, h=1, n=40, s=48, d=16, sink="k", ragged=True, window=True).check("triton", torch.float32)


@pytest.mark.parametrize("dtype,sink", [(torch.bfloat16, "kv"), (torch.float16, "k")])
def test_half_precision(case, dtype, sink):
    case(b=2, h=1, n=33, s=41, d=32, sink=sink, ragged=True).check("triton", dtype)


@pytest.mark.parametrize("sink", KERNEL_CASES)
def test_decode_split_k(sink):
    """Several splits per sequence, sequences of different lengths, episode windows for some variants."""
    g = torch.Generator().manual_seed(torch.seed() % 2**31)
    b, h, s, d = 3, 2, 200, 16
    q, k, v = (torch.randn(*shape, generator=g) for shape in ((b, h, d), (b, h, s, d), (b, h, s, d)))
    ks = None if sink == "none" else (torch.zeros(h, d) if sink == "zero" else torch.randn(h, d, generator=g))
    vs = torch.randn(h, d, generator=g) if sink in ("kv", "token") else None
    lengths = torch.tensor([s, 1, int(torch.randint(2, s, (1,), generator=g))])
    start = torch.tensor([0, 0, int(lengths[2]) // 2]) if sink in ("k", "kv") else None
    want = reference_decode(q.double(), k.double(), v.double(), lengths, None if ks is None else ks.double(),
                            None if vs is None else vs.double(), start)
    got = triton_decode.triton_decode(q, k, v, lengths.int(), ks, vs, None if start is None else start.int(),
                                      d ** -0.5, num_splits=5)
    assert (got.double() - want).abs().max() / want.abs().max() <= TOL[torch.float32]
    via_dispatch = sink_decode(q, k, v, lengths, ks, vs, key_start=start, backend="triton")
    assert (via_dispatch.double() - want).abs().max() / want.abs().max() <= TOL[torch.float32]


def test_decode_bf16_cache():
    g = torch.Generator().manual_seed(torch.seed() % 2**31)
    b, h, s, d = 2, 2, 130, 32
    q, k, v = (torch.randn(*shape, generator=g).bfloat16() for shape in ((b, h, d), (b, h, s, d), (b, h, s, d)))
    ks, vs = torch.randn(h, d, generator=g).bfloat16(), torch.randn(h, d, generator=g).bfloat16()
    lengths = torch.tensor([s, 77])
    want = reference_decode(q.double(), k.double(), v.double(), lengths, ks.double(), vs.double())
    got = sink_decode(q, k, v, lengths, ks, vs, backend="triton")
    assert got.dtype == torch.bfloat16
    assert (got.double() - want).abs().max() / want.abs().max() <= TOL[torch.bfloat16]


@pytest.mark.slow
@pytest.mark.parametrize("sink", SINK_VARIANTS)
def test_sweep(case, sink):
    """Bigger sizes: several tiles per dimension in both directions, head dims 16-64, fp32 and bf16."""
    for n, s, d, dtype in ((64, 100, 16, torch.float32), (80, 80, 64, torch.bfloat16), (17, 130, 32, torch.float32)):
        case(b=2, h=1, n=n, s=s, d=d, sink=sink, ragged=True, window=(sink == "kv")).check("triton", dtype)
