"""RGB-D frames per second of the embedded house simulator on ONE core.

A batch of 64 envs steps with uniform random actions (so episodes end and reset often, and trials move
to new houses), at 64 and 128 px. Prints progress, then one JSON object on the last line:
``fps_64``, ``fps_128`` and the details behind them, and ``gym_vector_fps_64``: the same 64-px batch
through ``gymnasium.make_vec("embodied/House-v0", vectorization_mode="vector_entry_point")``
(envs/gymnasium_export.py), with ``gym_vector_ratio_64`` = it / ``fps_64``.

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


def measure(resolution: int, num_envs: int, seconds: float, split: str, episodes_per_trial: int | None,
            gym_vector: bool = False) -> dict:
    """Frames per CPU second of the batch stepped directly or, with ``gym_vector``, through gymnasium.make_vec."""
    import envs.house

    extra = {} if episodes_per_trial is None else {"episodes_per_trial": episodes_per_trial}
    if gym_vector:
        import gymnasium

        vec = gymnasium.make_vec("embodied/House-v0", num_envs=num_envs, vectorization_mode="vector_entry_point",
                                 split=split, seed=0, resolution=resolution, **extra)
        vec.reset()

        def step(action):
            obs, _, terminated, truncated, info = vec.step(action)
            return terminated | truncated, info["is_trial_first"]
    else:
        env = envs.house.make(num_envs=num_envs, split=split, seed=0, resolution=resolution, **extra)
        env.reset()

        def step(action):
            obs, _, done, _ = env.step({"action": action})
            return done, obs["is_trial_first"]
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 6, (4096, num_envs))
    for t in range(20):  # warm-up: JIT caches loaded, first houses generated
        step(actions[t])
    steps, episodes, trials = 0, 0, 0
    start, cpu_start = time.perf_counter(), time.process_time()
    while time.process_time() - cpu_start < seconds:
        done, trial_first = step(actions[steps % len(actions)])
        steps += 1
        episodes += int(done.sum())
        trials += int(trial_first.sum())
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
    r = measure(64, args.num_envs, args.seconds, args.split, args.episodes_per_trial, gym_vector=True)
    print(f"  64 px through gymnasium.make_vec: {r['fps']:9.0f} RGB-D frames per CPU second", flush=True)
    result["gym_vector_fps_64"] = round(r["fps"], 1)
    result["gym_vector_ratio_64"] = round(r["fps"] / result["fps_64"], 3)
    result["detail_gym_vector_64"] = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
