"""Sink-KV attention speed and memory; the last line of stdout is one JSON object.

CPU (always): forward+backward time and peak memory of the chunked CPU path vs the naive reference
(which builds the T x T matrix) at T = 1k, 4k, 16k, batch 1, 8 heads, head dim 32, fp32. Each case runs in
a fresh subprocess whose peak resident memory is reset before the run (``/proc/self/clear_refs``), so the
peak is what the attention itself added. The naive path is skipped where its memory, extrapolated
quadratically from the largest size run, would not fit in half the free memory; it is then reported as
estimated.

GPU (only when CUDA is present): forward+backward TFLOP/s at T = 4096 of the Triton kernel beside PyTorch
SDPA with the sink emulated as an extra key/value, and decode time over 65,536 cached keys for both, with
the fraction of a measured device-to-device copy bandwidth the decode reaches. Without CUDA these are null.

Usage: ``python benchmarks/attention.py [--sizes 1024 4096 16384] [--threads 1]``
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HEADS, HEAD_DIM = 8, 32


def _status_mb(field: str) -> float:
    """A memory line of ``/proc/self/status`` (``VmRSS``: now, ``VmHWM``: peak since the last reset), in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def worker(backend: str, t: int) -> dict:
    """One CPU case in this (fresh) process: seconds and peak MB above the inputs for fwd+bwd."""
    import torch

    from embodied.kernels import sink_attention

    torch.manual_seed(0)
    q, k, v = (torch.randn(1, HEADS, t, HEAD_DIM, requires_grad=True) for _ in range(3))
    k_sink = torch.randn(HEADS, HEAD_DIM, requires_grad=True)
    small = [x[:, :, :128].detach().requires_grad_(True) for x in (q, k, v)]
    sink_attention(*small, k_sink, backend=backend).sum().backward()  # warm-up: first-call allocations
    grad = torch.randn(1, HEADS, t, HEAD_DIM)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak resident set to the current one
    base = _status_mb("VmRSS")
    start = time.perf_counter()
    out = sink_attention(q, k, v, k_sink, backend=backend)
    out.backward(grad)
    seconds = time.perf_counter() - start
    return {"time_s": seconds, "peak_mb": _status_mb("VmHWM") - base}


def _run_case(backend: str, t: int, threads: int) -> dict:
    cmd = [sys.executable, __file__, "--worker", backend, str(t)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if res.returncode != 0:
        raise RuntimeError(f"{backend} T={t} failed:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _available_mb() -> float:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return float("inf")


def cpu_figures(sizes: list[int], threads: int) -> dict:
    from rich.progress import Progress

    out: dict = {"sizes": sizes, "chunked_time_s": {}, "chunked_peak_mb": {}, "naive_time_s": {},
                 "naive_peak_mb": {}, "naive_estimated": {}}
    last_naive = None
    with Progress(transient=True) as bar:
        task = bar.add_task("attention fwd+bwd on CPU", total=2 * len(sizes))
        for t in sizes:
            r = _run_case("chunked", t, threads)
            out["chunked_time_s"][t], out["chunked_peak_mb"][t] = round(r["time_s"], 3), round(r["peak_mb"], 1)
            bar.advance(task)
            est = None
            if last_naive is not None:  # quadratic in T
                est = {key: val * (t / last_naive[0]) ** 2 for key, val in last_naive[1].items()}
            if est is not None and est["peak_mb"] > 0.5 * _available_mb():
                out["naive_time_s"][t], out["naive_peak_mb"][t] = round(est["time_s"], 3), round(est["peak_mb"], 1)
                out["naive_estimated"][t] = True
            else:
                r = _run_case("reference", t, threads)
                out["naive_time_s"][t], out["naive_peak_mb"][t] = round(r["time_s"], 3), round(r["peak_mb"], 1)
                out["naive_estimated"][t] = False
                last_naive = (t, r)
            bar.advance(task)
    lo, hi = sizes[0], sizes[-1]
    out["chunked_memory_growth"] = round(out["chunked_peak_mb"][hi] / max(out["chunked_peak_mb"][lo], 1e-3), 2)
    out["length_growth"] = hi / lo
    return out


def _cuda_time(fn, reps: int = 20) -> float:
    import torch

    fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / reps / 1e3


def gpu_figures() -> dict:
    """Triton vs SDPA (sink as an extra key/value slot) on the current CUDA device, bf16."""
    import torch
    import torch.nn.functional as F

    from embodied.kernels import sink_attention, sink_decode

    dev, dt, b, t = "cuda", torch.bfloat16, 8, 4096
    q, k, v = (torch.randn(b, HEADS, t, HEAD_DIM, device=dev, dtype=dt, requires_grad=True) for _ in range(3))
    ks, vs = (torch.randn(HEADS, HEAD_DIM, device=dev, dtype=dt, requires_grad=True) for _ in range(2))
    grad = torch.randn_like(q)
    mask = torch.ones(t, t + 1, dtype=torch.bool, device=dev).tril(1)  # column 0 = sink, always visible

    def ours():
        sink_attention(q, k, v, ks, vs).backward(grad)

    def sdpa():
        kk = torch.cat([ks[None, :, None].expand(b, -1, 1, -1), k], 2)
        vv = torch.cat([vs[None, :, None].expand(b, -1, 1, -1), v], 2)
        F.scaled_dot_product_attention(q, kk, vv, attn_mask=mask).backward(grad)

    flops = 3.5 * 4 * b * HEADS * t * t * HEAD_DIM / 2  # causal fwd (2 matmuls) + bwd (2.5x)
    res = {"device": torch.cuda.get_device_name(), "fwd_bwd_T": t, "fwd_bwd_batch": b,
           "triton_fwd_bwd_tflops": flops / _cuda_time(ours) / 1e12, "sdpa_fwd_bwd_tflops": flops / _cuda_time(sdpa) / 1e12}
    s, bd = 65536, 16
    qd = torch.randn(bd, HEADS, HEAD_DIM, device=dev, dtype=dt)
    kc, vc = (torch.randn(bd, HEADS, s, HEAD_DIM, device=dev, dtype=dt) for _ in range(2))
    lengths = torch.full((bd,), s, device=dev, dtype=torch.int32)
    with torch.no_grad():
        t_ours = _cuda_time(lambda: sink_decode(qd, kc, vc, lengths, ks, vs), reps=50)
        t_sdpa = _cuda_time(lambda: F.scaled_dot_product_attention(
            qd[:, :, None], torch.cat([ks[None, :, None].expand(bd, -1, 1, -1), kc], 2),
            torch.cat([vs[None, :, None].expand(bd, -1, 1, -1), vc], 2)), reps=50)
        copy_src = torch.empty(2 * kc.numel(), device=dev, dtype=dt)
        copy_dst = torch.empty_like(copy_src)
        t_copy = _cuda_time(lambda: copy_dst.copy_(copy_src), reps=50)
    bytes_read = 2 * kc.numel() * kc.element_size()
    bandwidth = 2 * bytes_read / t_copy  # a copy reads and writes
    res.update({"decode_keys": s, "decode_batch": bd, "triton_decode_us": t_ours * 1e6, "sdpa_decode_us": t_sdpa * 1e6,
                "decode_bandwidth_gbs": bytes_read / t_ours / 1e9, "copy_bandwidth_gbs": bandwidth / 1e9,
                "decode_bandwidth_fraction": bytes_read / t_ours / bandwidth})
    return res


def cache_figures() -> dict:
    """KV-cache memory per env-step of the reference policy (configs/policy/relic.yaml), and per 64k trial."""
    from pathlib import Path

    import gymnasium
    import numpy as np
    import torch
    from omegaconf import OmegaConf

    from embodied.policy import build

    cfg = OmegaConf.load(Path(__file__).resolve().parents[1] / "configs" / "policy" / "relic.yaml")
    obs = {"rgb": gymnasium.spaces.Box(0, 255, (64, 64, 3), np.uint8),
           "depth": gymnasium.spaces.Box(0, 10, (64, 64, 1), np.float32),
           "goal": gymnasium.spaces.Box(0, 1, (20,), np.float32), "gps": gymnasium.spaces.Box(-1e3, 1e3, (2,))}
    policy = build(cfg, obs, {"action": gymnasium.spaces.Discrete(6)})
    out = {}
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        per_step = policy.cache_bytes_per_step(dtype)
        out[f"relic_cache_bytes_per_step_{name}"] = per_step
        out[f"relic_cache_mib_per_64k_trial_{name}"] = per_step * 65536 / 2**20
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 4096, 16384])
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads per case (default 1: per-core figures, steady on shared machines)")
    parser.add_argument("--worker", nargs=2, metavar=("BACKEND", "T"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]))))
        return
    import torch

    result = {"heads": HEADS, "head_dim": HEAD_DIM, "batch": 1, "dtype": "float32",
              "threads": args.threads, "cpu": cpu_figures(args.sizes, args.threads)}
    result.update(cache_figures())
    if torch.cuda.is_available():
        result["gpu"] = gpu_figures()
    else:
        result["gpu"] = None
        result["gpu_note"] = "no CUDA device: Triton TFLOP/s and decode bandwidth not measured"
    c = result["cpu"]
    for t in args.sizes:
        print(f"T={t:6d}  chunked {c['chunked_time_s'][t]:8.3f} s {c['chunked_peak_mb'][t]:9.1f} MB   "
              f"naive {c['naive_time_s'][t]:8.3f} s {c['naive_peak_mb'][t]:9.1f} MB"
              f"{'  (estimated)' if c['naive_estimated'][t] else ''}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
