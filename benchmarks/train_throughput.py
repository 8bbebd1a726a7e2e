"""Training throughput of the default `embodied train` config (env steps/s, collection and learning together).

Measures, each over whole rollouts after a warm-up reset (JIT compilation, house generation):
- ``inprocess_steps_per_s`` / ``local_steps_per_s``: end-to-end with ``cluster=inprocess`` and a local Ray,
  and their ratio ``ray_over_inprocess``;
- ``collect_1_worker_steps_per_s`` / ``collect_2_workers_steps_per_s``: collection only (simulation and
  batched policy inference, no updates) on a local Ray with 1 and 2 env workers.

    python benchmarks/train_throughput.py [--rollouts N] [--only inprocess,local,collect] [key=value overrides]

``--only`` measures a subset (default: all; only ``inprocess`` starts no Ray). The last line of stdout is one
JSON object with the keys of the measured modes (``ray_over_inprocess`` needs both end-to-end figures).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from omegaconf import DictConfig

from embodied.config import load
from embodied.learner.trainer import Trainer
from embodied.rollout import cluster


def steps_per_s(cfg: DictConfig, remote: bool, learn: bool, rollouts: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, Path(tmp), remote, progress=False, tensorboard=False)
        try:
            trainer.collector.reset(trainer._seed_of)  # warm-up: compile, generate houses
            start_steps, start = trainer.counters["env_steps"], time.perf_counter()
            for _ in range(rollouts):
                trainer.rollout(learn=learn)
            return (trainer.counters["env_steps"] - start_steps) / (time.perf_counter() - start)
        finally:
            trainer.close()


MODES = ("inprocess", "local", "collect")


def _modes(text: str) -> tuple[str, ...]:
    """``--only`` value: modes from MODES, comma-separated."""
    modes = tuple(m.strip() for m in text.split(",") if m.strip())
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise argparse.ArgumentTypeError(f"unknown modes {unknown}; choose from {list(MODES)}")
    return modes


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rollouts", type=int, default=3, help="timed rollouts per measurement")
    parser.add_argument("--only", type=_modes, default=MODES,
                        help=f"comma-separated subset of {','.join(MODES)} to measure (default: all)")
    args, overrides = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.WARNING)
    base = [*overrides, "progress=false", "tensorboard=false"]
    out: dict = {"config": " ".join(overrides) or "default", "cpus": os.cpu_count(),
                 "load_avg_1m_start": os.getloadavg()[0]}
    cfg = load("train", [*base, "cluster=inprocess"])
    out["num_envs"], out["rollout_steps"] = int(cfg.trainer.num_envs), int(cfg.trainer.rollout_steps)
    if "inprocess" in args.only:
        print("measuring inprocess end-to-end ...", file=sys.stderr)
        out["inprocess_steps_per_s"] = steps_per_s(cfg, False, True, args.rollouts)
    if "local" in args.only or "collect" in args.only:
        local = load("train", [*base, "cluster=local"])
        with cluster.started(local) as remote:
            if "local" in args.only:
                print("measuring local Ray end-to-end ...", file=sys.stderr)
                out["local_steps_per_s"] = steps_per_s(local, remote, True, args.rollouts)
            for workers in (1, 2) if "collect" in args.only else ():
                print(f"measuring collection with {workers} worker(s) ...", file=sys.stderr)
                one = load("train", [*base, "cluster=local", f"cluster.num_workers={workers}"])
                out[f"collect_{workers}_worker{'s' if workers > 1 else ''}_steps_per_s"] = steps_per_s(
                    one, remote, False, args.rollouts)
    if "local_steps_per_s" in out and "inprocess_steps_per_s" in out:
        out["ray_over_inprocess"] = out["local_steps_per_s"] / out["inprocess_steps_per_s"]
    out["load_avg_1m_end"] = os.getloadavg()[0]
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
