"""A short ``incontext_house_gpu``-shaped training run through AMP and DDP: env steps/s, learner tokens/s, finite loss.

    python -m torch.distributed.run --nproc_per_node=1 benchmarks/amp_ddp_train.py [--seconds 120] [key=value ...]

Every rank joins the process group (NCCL on CUDA, gloo on the CPU) and trains through
``DistributedDataParallel``, one process included (plain ``embodied train`` skips DDP for a world of one:
this run is there to exercise it), with bf16 autocast on CUDA (``trainer.device=auto``). The config is
``+experiment=incontext_house_gpu`` (4096-step trials, updates every 256 steps, ResNet-18 encoder, relic
transformer) with its envs stepped in this process (``cluster=inprocess``: the GPU machine has no Ray);
``key=value`` arguments override it; without CUDA the default is a miniature of it (``--tiny``). After
``--seconds`` a stop is requested, which the ranks honour together at the next update boundary.

Learner tokens/s: the (env, step) positions forwarded and back-propagated in the PPO epochs (the context
``[0, stop)`` of every env in every epoch) per second spent in updates. The last line of stdout (rank 0)
is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch

from embodied.config import load
from embodied.learner import distributed
from embodied.learner.trainer import Trainer
from embodied.rollout import cluster

BASE = ["+experiment=incontext_house_gpu", "cluster=inprocess", "progress=false", "tensorboard=false"]
# The same run in miniature, the default without CUDA (the GPU check's dry run): one rollout of 2 envs x 8 steps.
TINY = ["trainer.num_envs=2", "cluster.num_workers=1", "trainer.rollout_steps=8", "trainer.update_every=4",
        "trainer.epochs=1", "trainer.minibatches=1", "trainer.total_steps=16", "trainer.torch_threads=1",
        "env.resolution=16", "policy.layers=1", "policy.d_model=32", "policy.heads=2", "policy.head_dim=16",
        "policy.mlp_hidden=32", "policy.encoder.feature_dim=16"]
LOSSES = ("policy_loss", "value_loss", "entropy")


class UpdateMeter:
    """Wraps the learner's ``update``: its time, the tokens it trained on and whether every loss was finite."""

    def __init__(self, trainer: Trainer):
        self.trainer, self.update = trainer, trainer.learner.update
        self.seconds, self.tokens, self.updates, self.finite, self.last = 0.0, 0, 0, True, {}
        trainer.learner.update = self

    def __call__(self, buf, start: int, stop: int, bootstrap, collected: int | None = None):
        begin = time.perf_counter()
        stats = self.update(buf, start, stop, bootstrap, collected)  # returns Python floats: the GPU work is done
        self.seconds += time.perf_counter() - begin
        self.tokens += self.trainer.learner.hp.epochs * buf.num_envs * stop
        self.updates += 1
        self.finite &= all(math.isfinite(stats[k]) for k in LOSSES)
        self.last = {k: stats[k] for k in LOSSES}
        return stats


def run(seconds: float, overrides: list[str]) -> dict:
    if "RANK" not in os.environ:
        raise SystemExit("error: run under torchrun (python -m torch.distributed.run --nproc_per_node=N ...)")
    rank = distributed.Rank(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"]))
    cfg = load("train", [*BASE, *overrides])
    with tempfile.TemporaryDirectory() as tmp, cluster.started(cfg) as remote:
        trainer = Trainer(cfg, Path(tmp) / "run", remote, progress=False, tensorboard=False, rank=rank)
        meter = UpdateMeter(trainer)
        timer = threading.Timer(seconds, lambda: setattr(trainer, "stop_requested", True))
        start = time.perf_counter()
        timer.start()
        try:
            trainer.train()
        finally:
            timer.cancel()
            trainer.close()
            distributed.finish()
        wall = time.perf_counter() - start
    device = trainer.device
    return {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "world_size": rank.world, "ddp": True, "amp": "bfloat16" if device.type == "cuda" else None,
            "num_envs_per_rank": trainer.collector.num_envs, "rollout_steps": trainer.T, "update_every": trainer.U,
            "wall_s": wall, "env_steps": trainer.counters["env_steps"], "env_steps_per_s": trainer.counters["env_steps"] / wall,
            "updates": meter.updates, "update_s": meter.seconds,
            "learner_tokens_per_s": rank.world * meter.tokens / max(meter.seconds, 1e-9),
            "loss_finite": meter.finite and meter.updates > 0, "last_losses": meter.last,
            "peak_device_mib": torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="wall-clock seconds before a stop is requested")
    parser.add_argument("--tiny", action=argparse.BooleanOptionalAction, default=not torch.cuda.is_available(),
                        help="the miniature run (default without CUDA: the full shape would not reach an update "
                             "boundary, where a stop is honoured, within minutes on a CPU)")
    parser.add_argument("overrides", nargs="*", help="key=value config overrides")
    args = parser.parse_args(argv)
    result = run(args.seconds, (TINY if args.tiny else []) + args.overrides)
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
