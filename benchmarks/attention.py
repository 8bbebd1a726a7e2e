"""Sink-KV attention speed and memory; the last line of stdout is one JSON object.

CPU (always): forward+backward time and peak memory of the chunked CPU path vs the naive reference
(which builds the T x T matrix) at T = 1k, 4k, 16k, batch 1, 8 heads, head dim 32, fp32. Each case runs in
a fresh subprocess whose peak resident memory is reset before the run (``/proc/self/clear_refs``), so the
peak is what the attention itself added. The naive path is skipped where its memory, extrapolated
quadratically from the largest size run, would not fit in half the free memory; it is then reported as
estimated.

GPU (only when CUDA is present): forward+backward TFLOP/s at T = 4096 and 16384 (bf16, batch x T = 32k) of
the Triton kernel beside PyTorch SDPA's flash backend with the sink emulated as an extra key/value, and
decode time over 65,536 cached keys for both, with the fraction of a measured device-to-device copy
bandwidth the decode reaches. Without CUDA these are null (``--kernels-on cpu``: the same code under the
Triton interpreter at tiny sizes, for the GPU check's dry run).

Usage: ``python benchmarks/attention.py [--sizes 1024 4096 16384] [--threads 1] [--no-cpu]``
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


def _seconds(fn, device, reps: int) -> float:
    """Mean seconds per call after one warm-up call (which compiles and autotunes the Triton kernels)."""
    import torch

    fn()
    if device.type != "cuda":
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        return (time.perf_counter() - start) / reps
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / reps / 1e3


def _flash(q, k, v, causal: bool):
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)


def kernel_figures(device_name: str, lengths: list[int], decode_keys: int, tokens: int, reps: int) -> dict:
    """Triton vs PyTorch SDPA's flash backend, bf16, the sink emulated as an extra key/value slot.

    fwd+bwd: causal attention needs the sink visible to every query, which a plain causal mask (query i sees
    keys <= i) gives once a dummy query row is put in front: row i + 1 then sees the sink and keys 0..i.
    Decode: one query per sequence over ``decode_keys`` cached keys (the SDPA cache holds the sink in front),
    against a device-to-device copy of the same bytes in the same run. On the CPU (the GPU check's dry run)
    the kernels run under ``TRITON_INTERPRET=1`` and the figures only prove the code runs.
    """
    import torch

    from embodied.kernels import sink_attention, sink_decode

    dev, dt = torch.device(device_name), torch.bfloat16
    torch.manual_seed(0)
    res: dict = {"device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu (interpreter)",
                 "dtype": "bfloat16", "fwd_bwd": {}}
    for t in lengths:
        b = max(1, tokens // t)
        q, k, v = (torch.randn(b, HEADS, t, HEAD_DIM, device=dev, dtype=dt, requires_grad=True) for _ in range(3))
        ks, vs = (torch.randn(HEADS, HEAD_DIM, device=dev, dtype=dt, requires_grad=True) for _ in range(2))
        grad = torch.randn_like(q)
        pad = torch.zeros(b, HEADS, 1, HEAD_DIM, device=dev, dtype=dt)

        def ours():
            out = sink_attention(q, k, v, ks, vs, backend="triton")
            out.backward(grad)
            return out

        def sdpa():
            kk = torch.cat([ks[None, :, None].expand(b, -1, 1, -1), k], 2)
            vv = torch.cat([vs[None, :, None].expand(b, -1, 1, -1), v], 2)
            out = _flash(torch.cat([pad, q], 2), kk, vv, causal=True)[:, :, 1:]
            out.backward(grad)
            return out

        diff = (ours().detach().float() - sdpa().detach().float()).abs().max().item()
        flops = 7 * b * HEADS * t * t * HEAD_DIM  # causal: fwd 2 matmuls (2 b H T^2 D), bwd 2.5x the fwd
        t_ours, t_sdpa = _seconds(ours, dev, reps), _seconds(sdpa, dev, reps)
        res["fwd_bwd"][t] = {"batch": b, "triton_tflops": flops / t_ours / 1e12, "sdpa_tflops": flops / t_sdpa / 1e12,
                             "speedup": t_sdpa / t_ours, "max_abs_diff_vs_sdpa": diff}
    bd = 16 if dev.type == "cuda" else 2
    qd = torch.randn(bd, HEADS, HEAD_DIM, device=dev, dtype=dt)
    kc, vc = (torch.randn(bd, HEADS, decode_keys, HEAD_DIM, device=dev, dtype=dt) for _ in range(2))
    ks, vs = (torch.randn(HEADS, HEAD_DIM, device=dev, dtype=dt) for _ in range(2))
    kk = torch.cat([ks[None, :, None].expand(bd, -1, 1, -1), kc], 2)
    vv = torch.cat([vs[None, :, None].expand(bd, -1, 1, -1), vc], 2)
    lengths_d = torch.full((bd,), decode_keys, device=dev, dtype=torch.int32)
    with torch.no_grad():
        diff = (sink_decode(qd, kc, vc, lengths_d, ks, vs, backend="triton").float()
                - _flash(qd[:, :, None], kk, vv, causal=False)[:, :, 0].float()).abs().max().item()
        t_ours = _seconds(lambda: sink_decode(qd, kc, vc, lengths_d, ks, vs, backend="triton"), dev, 5 * reps)
        t_sdpa = _seconds(lambda: _flash(qd[:, :, None], kk, vv, causal=False), dev, 5 * reps)
        copy_src = torch.empty(2 * kc.numel(), device=dev, dtype=dt)
        copy_dst = torch.empty_like(copy_src)
        t_copy = _seconds(lambda: copy_dst.copy_(copy_src), dev, 5 * reps)
    bytes_read = 2 * kc.numel() * kc.element_size()
    bandwidth = 2 * bytes_read / t_copy  # a copy reads and writes
    res.update({"decode_keys": decode_keys, "decode_batch": bd, "triton_decode_us": t_ours * 1e6,
                "sdpa_decode_us": t_sdpa * 1e6, "decode_max_abs_diff_vs_sdpa": diff,
                "decode_bandwidth_gbs": bytes_read / t_ours / 1e9, "copy_bandwidth_gbs": bandwidth / 1e9,
                "decode_bandwidth_fraction": bytes_read / t_ours / bandwidth})
    if dev.type == "cuda":
        from embodied.kernels import triton_attention, triton_decode

        res["autotuned"] = {name: {str(key): str(cfg) for key, cfg in tunable.chosen().items()}
                            for name, tunable in (("fwd", triton_attention._FWD), ("bwd_dkdv", triton_attention._BWD_DKDV),
                                                  ("bwd_dq", triton_attention._BWD_DQ), ("decode", triton_decode._SPLIT))}
    return res


def cache_figures() -> dict:
    """KV-cache memory per env-step of the reference policy (configs/policy/relic.yaml), and per 64k trial."""
    import gymnasium
    import numpy as np
    import torch

    from embodied.config import load
    from embodied.policy import build

    cfg = load("policy/relic").policy
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
    parser.add_argument("--no-cpu", action="store_true", help="skip the CPU chunked-vs-naive figures")
    parser.add_argument("--kernels-on", choices=("auto", "cpu"), default="auto",
                        help="device of the Triton-vs-SDPA figures: auto = CUDA when present (else skipped); cpu = "
                             "under TRITON_INTERPRET=1 at tiny sizes (the GPU check's dry run)")
    parser.add_argument("--kernel-lengths", type=int, nargs="+", default=[4096, 16384])
    parser.add_argument("--decode-keys", type=int, default=65536)
    parser.add_argument("--kernel-tokens", type=int, default=32768, help="batch x T of each fwd+bwd case")
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--worker", nargs=2, metavar=("BACKEND", "T"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]))))
        return
    import torch

    result = {"heads": HEADS, "head_dim": HEAD_DIM, "batch": 1, "dtype": "float32",
              "threads": args.threads, "cpu": None if args.no_cpu else cpu_figures(args.sizes, args.threads)}
    result.update(cache_figures())
    kernel_device = "cuda" if args.kernels_on == "auto" and torch.cuda.is_available() else args.kernels_on
    if kernel_device == "cpu" and os.environ.get("TRITON_INTERPRET") != "1":
        parser.error("--kernels-on cpu needs TRITON_INTERPRET=1 in the environment")
    if kernel_device != "auto":
        result["gpu"] = kernel_figures(kernel_device, args.kernel_lengths, args.decode_keys, args.kernel_tokens,
                                       args.reps)
    else:
        result["gpu"] = None
        result["gpu_note"] = "no CUDA device: Triton TFLOP/s and decode bandwidth not measured"
    c = result["cpu"] or {"sizes": []}
    for t in c["sizes"]:
        print(f"T={t:6d}  chunked {c['chunked_time_s'][t]:8.3f} s {c['chunked_peak_mb'][t]:9.1f} MB   "
              f"naive {c['naive_time_s'][t]:8.3f} s {c['naive_peak_mb'][t]:9.1f} MB"
              f"{'  (estimated)' if c['naive_estimated'][t] else ''}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
