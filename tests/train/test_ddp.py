"""Data-parallel training (torchrun-style ranks, gloo on CPU): gradients are averaged, weights stay equal."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from embodied import cli
from embodied.config import load

ARGS = ["cluster=inprocess", "cluster.num_workers=1", "trainer.num_envs=2", "trainer.rollout_steps=8",
        "trainer.update_every=4", "trainer.epochs=1", "trainer.minibatches=1", "trainer.total_steps=16",
        "trainer.lr=0.01", "progress=false", "tensorboard=false", "env.resolution=16", "policy.hidden=16",
        "policy.token_dim=16", "policy.encoder.channels=[4,8]", "policy.encoder.feature_dim=8",
        "policy.encoder.weights=null",
        "trainer.overlap_updates=false"]  # the single process updates in line, as the ranks do under torchrun


class _FailingOnce:
    """A house env whose 3rd step raises WorkerLost once per process (as a dead Ray worker does)."""
    failed = False

    def __init__(self, **cfg):
        import envs

        self.env, self.steps = envs.make(**cfg), 0

    def __getattr__(self, name):
        return getattr(self.env, name)

    def step(self, action):
        from embodied.rollout.pool import WorkerLost

        self.steps += 1
        if self.steps == 3 and not _FailingOnce.failed:
            _FailingOnce.failed = True
            raise WorkerLost([0])
        return self.env.step(action)


def _rank(rank: int, world: int, port: int, out: str, fail_on: int = -1, total_steps: int = 16) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(world), RANK=str(rank),
                      LOCAL_RANK=str(rank))
    from embodied.learner import distributed
    from embodied.learner.trainer import Trainer

    torch.set_num_threads(1)
    cfg = load("train", [*ARGS, f"trainer.total_steps={total_steps}"])
    trainer = Trainer(cfg, Path(out) / "run", remote=False, progress=False, tensorboard=False,
                      rank=distributed.from_env() if world > 1 else None,
                      env_factory=_FailingOnce if rank == fail_on else None)
    initial = {k: v.clone() for k, v in trainer.policy.state_dict().items()}
    try:
        trainer.train()
        torch.save({"initial": initial, "final": trainer.policy.state_dict(), "counters": trainer.counters,
                    "actions": trainer.buffer.action.clone()}, Path(out) / f"rank{rank}-of-{world}.pt")
    finally:
        trainer.close()
        distributed.finish()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_ranks_average_gradients_and_keep_equal_weights(tmp_path):
    mp.start_processes(_rank, args=(2, _free_port(), str(tmp_path)), nprocs=2, start_method="spawn")
    mp.start_processes(_rank, args=(1, _free_port(), str(tmp_path / "alone")), nprocs=1, start_method="spawn")
    r0, r1 = (torch.load(tmp_path / f"rank{r}-of-2.pt", weights_only=False) for r in (0, 1))
    alone = torch.load(tmp_path / "alone" / "rank0-of-1.pt", weights_only=False)
    trainable = [k for k in r0["final"] if not k.startswith("tokenizer.encoder.")]  # the encoder is frozen
    for k in r0["final"]:
        torch.testing.assert_close(r0["final"][k], r1["final"][k], rtol=0, atol=1e-6)  # identical after updates
        torch.testing.assert_close(r0["initial"][k], alone["initial"][k])  # same start as the single process
    assert any(not torch.allclose(r0["final"][k], r0["initial"][k]) for k in trainable)  # it learnt
    assert not torch.equal(r0["actions"], r1["actions"])  # each rank ran its own envs
    # rank 0 used the single process's envs and seeds, yet ends elsewhere: rank 1's gradients were averaged in
    torch.testing.assert_close(r0["actions"][:, :4], alone["actions"][:, :4])
    assert any(not torch.allclose(r0["final"][k], alone["final"][k], atol=1e-6) for k in trainable)
    # one rollout of 2 envs x 8 steps on each rank: the step counter counts both ranks' steps
    assert r0["counters"]["env_steps"] == r1["counters"]["env_steps"] == 32 and alone["counters"]["env_steps"] == 16
    assert r0["counters"]["updates"] == alone["counters"]["updates"] == 2


def test_a_worker_lost_on_one_rank_makes_every_rank_redo_the_rollout(tmp_path):
    mp.start_processes(_rank, args=(2, _free_port(), str(tmp_path), 1, 32), nprocs=2, start_method="spawn")
    r0, r1 = (torch.load(tmp_path / f"rank{r}-of-2.pt", weights_only=False) for r in (0, 1))
    for k in r0["final"]:
        torch.testing.assert_close(r0["final"][k], r1["final"][k], rtol=0, atol=1e-6)
    # the first rollout was abandoned by both ranks at its first boundary (no update; rank 0 had stepped
    # 4 steps x 2 envs x 2 ranks, discarded, not counted), the second completed (32 steps)
    assert r0["counters"]["rollouts"] == r1["counters"]["rollouts"] == 1
    assert r0["counters"]["updates"] == r1["counters"]["updates"] == 2
    assert r0["counters"]["env_steps"] == r1["counters"]["env_steps"] == 32
    assert r0["counters"]["steps_discarded"] == 16 and 0 < r1["counters"]["steps_discarded"] < 16


def test_torchrun_without_a_run_name_is_refused(monkeypatch, capsys):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    assert cli.main(["train", *ARGS]) == 2
    assert "name" in capsys.readouterr().err


@pytest.mark.parametrize("world", ["1", None])
def test_a_single_process_is_not_distributed(monkeypatch, world):
    from embodied.learner import distributed

    if world is None:
        monkeypatch.delenv("WORLD_SIZE", raising=False)
    else:
        monkeypatch.setenv("WORLD_SIZE", world)
    assert distributed.from_env() is None
