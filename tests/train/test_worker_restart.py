"""A Ray env worker killed mid-training (SIGKILL to its PID) is replaced and training goes on."""
from __future__ import annotations

import os
import signal

import line_env
import pytest
import ray.cloudpickle
from helpers import line_train_cfg

from embodied.learner.trainer import Trainer

ray.cloudpickle.register_pickle_by_value(line_env)  # the test env ships to the workers by value


@pytest.mark.parametrize("direct_calls,overlap", [(True, False), (False, False), (True, True)],
                         ids=["direct-channel", "ray-tasks", "updates-beside-acting"])
def test_killed_worker_is_restarted_and_training_continues(ray_session, tmp_path, direct_calls, overlap):
    # with overlap_updates the lost rollout has an update running beside it (the first one's full update at T)
    cfg = line_train_cfg(cluster="local", total_steps=4 * 16 * 6, overlap_updates=overlap)
    cfg.cluster.direct_calls = direct_calls
    cfg.cluster.num_workers = 2
    cfg.cluster.worker_cpus = 0.5
    t = Trainer(cfg, tmp_path / "run", remote=True, progress=False, tensorboard=False, env_factory=line_env.make)
    try:
        assert t.rollout()
        pids = t.pool.pids()
        assert len(set(pids)) == 2 and os.getpid() not in pids
        updates = t.counters["updates"]
        os.kill(pids[1], signal.SIGKILL)
        result = t.train()
        new_pids = t.pool.pids()
    finally:
        t.close()
    assert t.counters["worker_restarts"] == 1 and t.pool.restarts == 1
    assert new_pids[0] == pids[0] and new_pids[1] != pids[1]
    assert result["counters"]["env_steps"] >= cfg.trainer.total_steps
    assert t.counters["updates"] > updates + 2  # updates after the restart, on fresh envs
    log = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    assert log[-1].split(",")[log[0].split(",").index("perf/worker_restarts")] == "1"
