"""RGB-D frames per second of the embedded house simulator on ONE core.

A batch of 64 envs steps with uniform random actions (so episodes end and reset often, and trials move
to new houses), at 64 and 128 px. Prints progress, then one JSON object on the last line:
``fps_64``, ``fps_128`` and the details behind them.

The process is pinned to one core and single-threaded, so the CPU time it is charged is the time that
core spent on it: ``fps_*`` divide frames by that CPU time, which stays meaningful when other processes
share the core; ``fps_*_wall`` divide by wall-clock time (equal on an idle machine).

    python benchmarks/house_fps.py [--seconds 5] [--num-envs 64] [--episodes-per-trial N]
"""
from __future__ import annotations

import os

os.environ["NUMBA_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def measure(resolution: int, num_envs: int, seconds: float, split: str, episodes_per_trial: int | None) -> dict:
    import envs.house

    extra = {} if episodes_per_trial is None else {"episodes_per_trial": episodes_per_trial}
    env = envs.house.make(num_envs=num_envs, split=split, seed=0, resolution=resolution, **extra)
    env.reset()
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 6, (4096, num_envs))
    for t in range(20):  # warm-up: JIT caches loaded, first houses generated
        env.step({"action": actions[t]})
    steps, episodes, trials = 0, 0, 0
    start, cpu_start = time.perf_counter(), time.process_time()
    while time.process_time() - cpu_start < seconds:
        obs, _, done, _ = env.step({"action": actions[steps % len(actions)]})
        steps += 1
        episodes += int(done.sum())
        trials += int(obs["is_trial_first"].sum())
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {"fps": steps * num_envs / cpu, "fps_wall": steps * num_envs / elapsed, "steps": steps,
            "cpu_seconds": cpu, "wall_seconds": elapsed, "episodes": episodes, "new_houses": trials}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="CPU seconds timed per resolution")
    parser.add_argument("--num-envs", type=int, default=64)
    parser.add_argument("--split", default="train", choices=("train", "val", "test"))
    parser.add_argument("--episodes-per-trial", type=int, default=None,
                        help="episodes per house before a new one is generated (default: the env's)")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    import numba

    numba.set_num_threads(1)
    result: dict = {"num_envs": args.num_envs, "split": args.split, "cores": 1, "cpu": platform.processor() or
                    platform.machine()}
    for res in (64, 128):
        r = measure(res, args.num_envs, args.seconds, args.split, args.episodes_per_trial)
        print(f"{res:4d} px: {r['fps']:9.0f} RGB-D frames per CPU second ({r['fps_wall']:.0f} per wall second; "
              f"{r['steps']} batch steps, {r['episodes']} episodes, {r['new_houses']} new houses)", flush=True)
        result[f"fps_{res}"] = round(r["fps"], 1)
        result[f"fps_{res}_wall"] = round(r["fps_wall"], 1)
        result[f"detail_{res}"] = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
