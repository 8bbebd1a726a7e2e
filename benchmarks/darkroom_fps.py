"""Env steps per second of the embedded Darkroom env (envs/darkroom) on ONE core.

A batch of ``--num-envs`` envs (default 4096) steps with uniform random actions (pre-drawn, so the
policy costs nothing) for ``--seconds`` CPU seconds; every ``horizon`` steps all episodes end and reset,
trials move to new goals. The process is pinned to one core and its single-threaded NumPy is charged
the CPU time it used, so the figure stays meaningful when other processes share the core (the
wall-clock figure is printed beside it). Last line of stdout: one JSON object with
``darkroom_steps_per_s`` (env steps per CPU second, all envs together) and ``num_envs``.

    python benchmarks/darkroom_fps.py [--num-envs 4096] [--seconds 3] [--size 10] [--horizon 100]
"""
from __future__ import annotations

import os

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def measure(num_envs: int, seconds: float, size: int, horizon: int, episodes_per_trial: int) -> dict:
    import envs.darkroom

    env = envs.darkroom.make(num_envs=num_envs, seed=0, size=size, horizon=horizon,
                             episodes_per_trial=episodes_per_trial)
    env.reset()
    actions = np.random.default_rng(0).integers(0, env.act_space["action"].n, (1024, num_envs))
    for t in range(20):  # warm-up
        env.step({"action": actions[t]})
    steps, episodes, trials = 0, 0, 0
    start, cpu_start = time.perf_counter(), time.process_time()
    while time.process_time() - cpu_start < seconds:
        for _ in range(50):  # check the clock every 50 batch steps
            obs, _, done, _ = env.step({"action": actions[steps % len(actions)]})
            steps += 1
            episodes += int(done.sum())
            trials += int(obs["is_trial_first"].sum())
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {"steps_per_s": steps * num_envs / cpu, "steps_per_s_wall": steps * num_envs / elapsed,
            "batch_steps": steps, "cpu_seconds": cpu, "wall_seconds": elapsed, "episodes": episodes,
            "trials": trials}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=4096)
    parser.add_argument("--seconds", type=float, default=3.0, help="CPU seconds timed")
    parser.add_argument("--size", type=int, default=10)
    parser.add_argument("--horizon", type=int, default=100)
    parser.add_argument("--episodes-per-trial", type=int, default=4)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    r = measure(args.num_envs, args.seconds, args.size, args.horizon, args.episodes_per_trial)
    print(f"{r['steps_per_s']:,.0f} env steps per CPU second ({r['steps_per_s_wall']:,.0f} per wall second; "
          f"{r['batch_steps']} batch steps of {args.num_envs} envs, {r['episodes']} episodes, {r['trials']} trials)",
          flush=True)
    result = {"darkroom_steps_per_s": round(r["steps_per_s"], 1),
              "darkroom_steps_per_s_wall": round(r["steps_per_s_wall"], 1), "num_envs": args.num_envs,
              "size": args.size, "horizon": args.horizon, "cores": 1,
              "cpu": platform.processor() or platform.machine(),
              "detail": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
