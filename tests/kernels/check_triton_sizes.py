"""The Triton kernels at the sizes and dtypes of the GPU check, against the float64 reference.

Not collected by default (no ``test_`` prefix): ``benchmarks/gpu_check.sh`` runs it by path. On a CUDA
device the kernels are compiled and the sizes are the GPU's (``EMBODIED_GPU_CHECK=full``: T up to 16k,
head dims 32/64/128, decode over 64k keys, fp32 / bf16 / fp16, every autotune candidate pinned once);
without one they run under ``TRITON_INTERPRET=1`` at tiny sizes (``dry``), the same checks in miniature.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import sys

import torch

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
if DEVICE == "cpu":
    os.environ["TRITON_INTERPRET"] = "1"
elif os.environ.get("TRITON_INTERPRET") == "1":  # tests/conftest.py sets it unless told otherwise
    raise RuntimeError("a CUDA device is present: run with TRITON_INTERPRET=0 to compile the kernels for it")

import pytest  # noqa: E402
from triton.runtime.errors import OutOfResources  # noqa: E402

from attention_cases import SINK_VARIANTS, TOL, make_case  # noqa: E402
from embodied.kernels import reference_decode, sink_decode  # noqa: E402
from embodied.kernels import tuning  # noqa: E402

for _name in ("embodied.kernels.triton_attention", "embodied.kernels.triton_decode"):
    if _name in sys.modules and DEVICE == "cpu":
        importlib.reload(sys.modules[_name])
triton_attention = importlib.import_module("embodied.kernels.triton_attention")
triton_decode = importlib.import_module("embodied.kernels.triton_decode")

FULL = os.environ.get("EMBODIED_GPU_CHECK", "dry") == "full"
if FULL and DEVICE == "cpu":
    raise RuntimeError("EMBODIED_GPU_CHECK=full needs a CUDA device (the interpreter cannot reach these sizes)")
DTYPES = (torch.float32, torch.bfloat16, torch.float16)
HEAD_DIMS = (32, 64, 128) if FULL else (16, 32)
# (queries, keys): a chunk over a prefix; the long one is the 16k context of the benchmark's extrapolation
CHUNK = (1500, 2100) if FULL else (37, 53)
LONG = 16384 if FULL else 64
DECODE_KEYS = 65536 if FULL else 200


def _name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


@pytest.mark.parametrize("d", HEAD_DIMS)
@pytest.mark.parametrize("dtype", DTYPES, ids=_name)
def test_chunk_over_prefix_ragged(dtype, d):
    """Forward and every gradient; the sink variant rotates with the head dim."""
    sink = SINK_VARIANTS[(HEAD_DIMS.index(d) + DTYPES.index(dtype)) % len(SINK_VARIANTS)]
    n, s = CHUNK
    make_case(b=2, h=2, n=n, s=s, d=d, sink=sink, ragged=True, device=DEVICE).check("triton", dtype)


@pytest.mark.parametrize("sink", SINK_VARIANTS)
def test_every_sink_variant_with_windows(sink):
    n, s = CHUNK
    dtype = torch.bfloat16 if FULL else torch.float32
    make_case(b=2, h=2, n=n, s=s, d=64 if FULL else 16, sink=sink, ragged=True, window=True,
              device=DEVICE).check("triton", dtype)


@pytest.mark.parametrize("dtype,d,sink", [(torch.float32, HEAD_DIMS[-1], "kv"), (torch.bfloat16, HEAD_DIMS[1], "k"),
                                          (torch.float16, HEAD_DIMS[0], "token")], ids=lambda x: str(x))
def test_long_context(dtype, d, sink):
    """Whole sequences of T keys (no prefix), the second one shorter."""
    make_case(b=2, h=1, n=LONG, s=LONG, d=d, sink=sink, ragged=True, device=DEVICE).check("triton", dtype)


@pytest.mark.parametrize("kind,index", [(k, i) for k in ("fwd", "bwd") for i in range(len(tuning.candidates(k)))])
def test_every_tile_candidate(kind, index):
    """Each config the autotuner may pick gives the reference's results (ragged, windows, sink k and v)."""
    n, s = CHUNK
    with tuning.pinned(kind, tuning.candidates(kind)[index]), _runnable():
        make_case(b=2, h=2, n=n, s=s, d=HEAD_DIMS[-1], sink="kv", ragged=True, window=True,
                  device=DEVICE).check("triton", torch.bfloat16 if FULL else torch.float32)


@contextlib.contextmanager
def _runnable():
    """A candidate that needs more shared memory than this GPU has is one the autotuner drops too."""
    try:
        yield
    except OutOfResources as e:
        pytest.skip(f"not runnable on this device (the autotuner drops it as well): {e}")


def _decode_case(dtype: torch.dtype, d: int, sink: str, windows: bool, seed: int):
    g = torch.Generator().manual_seed(seed)
    b, h, s = 3, 2, DECODE_KEYS

    def rnd(*shape):
        return torch.randn(*shape, generator=g).to(DEVICE, dtype)

    q, k, v = rnd(b, h, d), rnd(b, h, s, d), rnd(b, h, s, d)
    ks = None if sink == "none" else (torch.zeros(h, d, device=DEVICE, dtype=dtype) if sink == "zero" else rnd(h, d))
    vs = rnd(h, d) if sink in ("kv", "token") else None
    lengths = torch.tensor([s, 1, int(torch.randint(2, s, (1,), generator=g))], device=DEVICE)
    start = torch.tensor([0, 0, int(lengths[2]) // 2], device=DEVICE) if windows else None
    want = reference_decode(q.double(), k.double(), v.double(), lengths, None if ks is None else ks.double(),
                            None if vs is None else vs.double(), start)
    return (q, k, v, lengths, ks, vs, start), want


def _decode_error(got: torch.Tensor, want: torch.Tensor) -> float:
    return ((got.double() - want).abs().max() / want.abs().max()).item()


@pytest.mark.parametrize("d", HEAD_DIMS)
@pytest.mark.parametrize("dtype", DTYPES, ids=_name)
def test_decode(dtype, d):
    """One query per sequence over a long cache: full, length-1 and windowed sequences, split-K."""
    sink = SINK_VARIANTS[(HEAD_DIMS.index(d) + 2 * DTYPES.index(dtype)) % len(SINK_VARIANTS)]
    seed = torch.seed() % 2**31
    (q, k, v, lengths, ks, vs, start), want = _decode_case(dtype, d, sink, sink in ("k", "kv"), seed)
    got = sink_decode(q, k, v, lengths, ks, vs, key_start=start, backend="triton")
    assert got.dtype == dtype
    assert _decode_error(got, want) <= TOL[dtype], f"seed {seed}"


@pytest.mark.parametrize("index", range(len(tuning.candidates("decode"))))
def test_every_decode_candidate(index):
    seed = torch.seed() % 2**31
    (q, k, v, lengths, ks, vs, start), want = _decode_case(torch.bfloat16, HEAD_DIMS[-1], "kv", True, seed)
    with tuning.pinned("decode", tuning.candidates("decode")[index]), _runnable():
        got = sink_decode(q, k, v, lengths, ks, vs, key_start=start, backend="triton")
    assert _decode_error(got, want) <= TOL[torch.bfloat16], f"seed {seed}"
