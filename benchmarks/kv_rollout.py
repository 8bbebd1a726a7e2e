"""The reference policy's KV-cache rollout over one long trial: cache equivalence and memory per step.

The ``relic`` policy (4 layers, 8 heads, head dim 32, ResNet-18 encoder, attention across episodes) prefills
a trial of ``--steps`` steps, rewinds the cache by ``--tail`` steps and steps them again one at a time
(the decode kernel over the whole trial's keys); the logits must match the full-sequence forward. On CUDA
this runs in bf16 autocast as the trainer does (Triton kernels), by default at 65,536 steps; on the CPU in
fp32 at 512 steps (the GPU check's dry run). Reports the cache's bytes per step (formula and measured
allocation), milliseconds per decode step at the full length (the median after the first step, which
compiles and autotunes the decode kernel for that length: ``first_step_ms``) and peak device memory.

    python benchmarks/kv_rollout.py [--steps 65536] [--batch 2] [--tail 32]

The last line of stdout is one JSON object.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "policy"))
from policy_inputs import at, spaces, trial_batch  # noqa: E402  (synthetic trials shaped like the env contract)

from embodied.config import load  # noqa: E402
from embodied.policy import build  # noqa: E402

# Max |logit difference| / max |logit| allowed between stepping and the full forward.
TOLERANCE = {"cuda": 3e-2, "cpu": 1e-4}  # bf16 autocast on CUDA (RoPE and the cache in bf16), fp32 on the CPU


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def rollout(steps: int, batch: int, tail: int, device: torch.device, seed: int = 0) -> dict:
    cfg = load("policy/relic").policy
    torch.manual_seed(seed)
    policy = build(cfg, *spaces()).to(device).eval()
    inputs = trial_batch(batch, steps, seed, max_episode=500)
    inputs["is_trial_first"][:, 1:] = False  # one trial: every step stays in context
    inputs = {k: v.to(device) for k, v in inputs.items()}
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else contextlib.nullcontext()
    measured_per_step = None  # what allocating an empty cache takes on the device, per env and step
    if device.type == "cuda":
        before = torch.cuda.memory_allocated(device)
        empty = policy.initial_state(batch, steps, device)
        measured_per_step = (torch.cuda.memory_allocated(device) - before) / (batch * steps)
        del empty
        torch.cuda.reset_peak_memory_stats(device)
    with torch.no_grad(), autocast:
        start = time.perf_counter()
        full_logits, _, state = policy.prefill(inputs)
        _sync(device)
        prefill_s = time.perf_counter() - start
        state.lengths -= tail
        logits, times = [], []
        for i in range(steps - tail, steps):
            start = time.perf_counter()
            lg, _, state = policy.step(at(inputs, i), state)
            _sync(device)
            times.append(time.perf_counter() - start)
            logits.append(lg)
        # the first step at a new length compiles and autotunes the decode kernel (once per length bucket)
        first_ms, step_ms = times[0] * 1e3, sorted(times[1:])[(len(times) - 1) // 2] * 1e3
    logits = torch.stack(logits, 1).float()
    want = full_logits[:, -tail:].float()
    err = ((logits - want).abs().max() / want.abs().max()).item()
    return {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "steps": steps, "batch": batch, "tail": tail, "episodes": int(inputs["episode_index"].max()) + 1,
            "cache_bytes_per_step": policy.cache_bytes_per_step(), "measured_cache_bytes_per_step": measured_per_step,
            "cache_mib": state.nbytes / 2**20, "prefill_s": prefill_s, "first_step_ms": first_ms,
            "step_ms_at_full_length": step_ms,
            "peak_device_mib": torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None,
            "max_rel_logit_error": err, "tolerance": TOLERANCE[device.type],
            "equivalent": err <= TOLERANCE[device.type] and int(state.lengths.min()) == steps}


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=None, help="trial length (default: 65536 on CUDA, 512 on CPU)")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--tail", type=int, default=32, help="steps re-run one at a time from the cache")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    steps = args.steps or (65536 if device.type == "cuda" else 512)
    if not 1 < args.tail < steps:
        parser.error(f"--tail must lie in [2, {steps - 1}] (fewer steps than the trial); got {args.tail}")
    result = rollout(steps, args.batch, args.tail, device)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
