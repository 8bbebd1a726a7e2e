"""Decode-kernel sweep: time over a long KV cache by number of key splits and tile config.

The split count (``num_splits`` of ``triton_decode``) is chosen by a heuristic, not autotuned (it changes the
grid, not the kernel), so this sweep is what set it: on an H200 (batch 16, 8 heads, head dim 32, 64k keys)
8 programs per SM was best. Each config of ``--tiles`` is pinned (``tuning.pinned``) and timed with
``triton.testing.do_bench``; every output is checked against the float64 reference.

    python benchmarks/decode_splits.py [--keys 65536] [--batch 16] [--splits 4 8 16 32 64 128]

Needs CUDA, or ``TRITON_INTERPRET=1`` at tiny sizes (CI). The last line of stdout is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import time

import torch
from triton.testing import do_bench

from embodied.kernels import reference_decode, tuning
from embodied.kernels.triton_decode import triton_decode

HEADS, HEAD_DIM = 8, 32
TILES = [(0, 32, 4, 2), (0, 64, 4, 2), (0, 128, 4, 3), (0, 128, 8, 2), (0, 256, 4, 2), (0, 256, 8, 2)]
TOLERANCE = 2e-2  # bf16 inputs, fp32 accumulation


def _milliseconds(fn, warmup: int, rep: int) -> float:
    """``do_bench`` on CUDA; a plain mean under the interpreter (no CUDA events there)."""
    if torch.cuda.is_available():
        return do_bench(fn, warmup=warmup, rep=rep)
    fn()
    start = time.perf_counter()
    for _ in range(3):
        fn()
    return (time.perf_counter() - start) / 3 * 1e3


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=65536)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--splits", type=int, nargs="+", default=[4, 8, 16, 32, 64, 128])
    parser.add_argument("--tiles", type=str, nargs="+", default=None,
                        help="BLOCK_N:warps:stages each (default: a spread around the autotune candidates)")
    args = parser.parse_args(argv)
    tiles = TILES if args.tiles is None else [(0, *map(int, t.split(":"))) for t in args.tiles]
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dt = torch.bfloat16 if dev.type == "cuda" else torch.float32
    gen = torch.Generator(device=dev).manual_seed(0)
    q = torch.randn(args.batch, HEADS, HEAD_DIM, device=dev, dtype=dt, generator=gen)
    k, v = (torch.randn(args.batch, HEADS, args.keys, HEAD_DIM, device=dev, dtype=dt, generator=gen) for _ in range(2))
    ks, vs = (torch.randn(HEADS, HEAD_DIM, device=dev, dtype=dt, generator=gen) for _ in range(2))
    lengths = torch.full((args.batch,), args.keys, device=dev, dtype=torch.int32)
    scale = HEAD_DIM ** -0.5
    ref = reference_decode(*(t.double() for t in (q, k, v)), lengths.long(), ks.double(), vs.double(), None, scale)
    nbytes = 2 * k.numel() * k.element_size()
    rows = []
    for tile in tiles:
        with tuning.pinned("decode", tuning.tile_config(*tile)):
            for n in args.splits:
                run = lambda: triton_decode(q, k, v, lengths, ks, vs, None, scale, num_splits=n)  # noqa: E731
                err = (run().double() - ref).abs().max().item()
                if err > TOLERANCE:
                    raise SystemExit(f"decode with tile {tile}, {n} splits is off by {err:.3g} (> {TOLERANCE})")
                ms = _milliseconds(run, 10, 50)
                rows.append({"block_n": tile[1], "warps": tile[2], "stages": tile[3], "splits": n,
                             "us": ms * 1e3, "gbs": nbytes / ms / 1e6, "max_abs_err": err})
                print(json.dumps(rows[-1]), flush=True)
    src = torch.empty(2 * k.numel(), device=dev, dtype=dt)
    dst = torch.empty_like(src)
    copy_gbs = 2 * nbytes / _milliseconds(lambda: dst.copy_(src), 10, 50) / 1e6  # a copy reads and writes
    best = min(rows, key=lambda r: r["us"])
    result = {"device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu (interpreter)",
              "keys": args.keys, "batch": args.batch, "heads": HEADS, "head_dim": HEAD_DIM, "copy_gbs": copy_gbs,
              "best": best, "best_bandwidth_fraction": best["gbs"] / copy_gbs, "rows": rows}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
