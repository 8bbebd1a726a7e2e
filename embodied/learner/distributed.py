"""Data-parallel training (DDP): one trainer process per GPU, launched by ``torchrun``.

    torchrun --nproc_per_node=8 -m embodied.cli train trainer.num_envs=64 ...

Every rank runs its own env workers and trial buffer (``trainer.num_envs`` envs each: the run steps
``WORLD_SIZE`` times as many) on its own env seeds and averages gradients with the
others in each PPO minibatch (``DistributedDataParallel``), so the weights stay identical everywhere. The
ranks agree at every update boundary on whether to go on (a stop request or a lost env worker on any rank
ends or redoes the rollout on all of them). Rank 0 alone logs and writes checkpoints. Without torchrun's
environment (``WORLD_SIZE`` unset or 1) nothing here is used. NCCL on GPUs, gloo on CPUs (tests).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Rank:
    rank: int
    world: int
    local: int

    @property
    def main(self) -> bool:
        return self.rank == 0


def from_env() -> Rank | None:
    """This process's place in a torchrun launch, or None when it runs alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    return Rank(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))


def init(rank: Rank, device: torch.device) -> torch.device:
    """Join the process group; returns this rank's device (``cuda:LOCAL_RANK`` on GPUs)."""
    import torch.distributed as dist

    if device.type == "cuda":
        device = torch.device("cuda", rank.local)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=rank.rank, world_size=rank.world)
    return device


def wrap(policy: nn.Module, device: torch.device) -> nn.Module:
    """The module whose backward averages gradients over ranks (rank 0's initial weights are broadcast)."""
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(policy, device_ids=[device.index] if device.type == "cuda" else None)


def rank_max(value: float, device: torch.device) -> float:
    """The largest of the ranks' ``value`` (on every rank); ``rank_max(flag) > 0``: the flag is set on any."""
    import torch.distributed as dist

    t = torch.tensor([float(value)], dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return float(t.item())


def finish() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
