"""Losing a node mid-training, on a real multi-node Ray cluster on this machine (slow: ~1 minute).

Two 1-CPU nodes, one 1-CPU env worker on each; the non-head node's raylet is SIGKILLed mid-rollout. Its
worker's replacement cannot go back to the dead node, and the head has no free CPU, so it runs beside the
survivor without a reservation; a third node joins later and the worker moves there. The step budget is
met, every step counted once: the dropped rollout's steps since its last update are reported as
``steps_discarded`` and not counted; those before it stay counted (an update was made of them).
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import line_env
import pytest
import ray.cloudpickle
from helpers import line_train_cfg

import local_cluster
from embodied.learner import checkpoint
from embodied.learner.trainer import Trainer

ray.cloudpickle.register_pickle_by_value(line_env)  # the test env ships to the workers by value
pytestmark = pytest.mark.slow

ROLLOUT = 16 * 4  # rollout_steps x num_envs: env steps per rollout
KILL_AT = ROLLOUT + 32 + 6  # mid-way through rollout 2: 6 steps after its first partial update (at 96)
JOIN_AT = 5 * ROLLOUT + 2  # in rollout 6


class FaultyTrainer(Trainer):
    """The trainer, with a fault injected when ``env_steps`` first reaches given counts (after that half)."""

    faults: dict[int, Callable[[], None]] = {}

    def _receive(self, half: int, t: int) -> None:
        super()._receive(half, t)
        fault = self.faults.pop(self.counters["env_steps"], None)
        if fault is not None:
            fault()


def test_a_lost_node_is_survived_and_a_joining_node_gets_workers(no_session_ray, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="embodied")
    cfg = line_train_cfg(cluster="ray", total_steps=10 * ROLLOUT)
    cfg.cluster.update(num_workers=2, worker_cpus=1)
    with local_cluster.cluster({"head": 1, "node2": 1}, local_cluster.FAST_HEALTH_CHECKS) as local:
        head, node2 = local.head_node.node_id, next(iter(local.worker_nodes)).node_id
        ip = local.head_node.node_ip_address
        t = FaultyTrainer(cfg, tmp_path / "run", remote=True, progress=False, tensorboard=False,
                          env_factory=line_env.make)
        try:
            assert sorted(t.pool.nodes) == sorted([head, node2])  # a worker on each node
            lost = t.pool.nodes.index(node2)
            lost_pid = t.pool.pids()[lost]
            joined = []

            def kill() -> None:
                local_cluster.kill_raylet(local, next(iter(local.worker_nodes)))
                local_cluster.wait_exited(lost_pid)  # so that the next step's call finds it gone

            def join() -> None:
                assert not t.pool.reserved[lost]  # it runs beside the survivor, without its CPU
                joined.append(local.add_node(**local_cluster.node_args(1)).node_id)
                local.wait_for_nodes()

            t.faults = {KILL_AT: kill, JOIN_AT: join}
            result = t.train()
            workers_say, nodes, reserved = t.pool.call("node_id"), list(t.pool.nodes), list(t.pool.reserved)
        finally:
            t.close()
    counters = result["counters"]
    assert not t.faults  # both faults happened
    # 10 whole rollouts, and the first 32 steps of the dropped one: an update was made of them
    assert counters["env_steps"] == 10 * ROLLOUT + 32 and counters["rollouts"] == 10
    # the steps received since the update before the kill: up to the kill, plus the other half's step if the
    # worker had answered it before it died (it has ~1 s; a step takes under a millisecond)
    discarded = counters["steps_discarded"]
    assert discarded in (KILL_AT - (ROLLOUT + 32), KILL_AT - (ROLLOUT + 32) + 2)
    assert counters["updates"] == 2 * 10 + 1  # the dropped rollout's first update stays
    assert counters["worker_restarts"] == 1 and counters["episodes"] == t.stats.episodes
    assert nodes == workers_say and sorted(workers_say) == sorted([head, joined[0]]) and all(reserved)
    saved = checkpoint.read(checkpoint.latest(tmp_path / "run"))["counters"]
    assert saved["env_steps"] == counters["env_steps"] and saved["steps_discarded"] == discarded
    rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    last = dict(zip(rows[0].split(","), rows[-1].split(",")))
    assert int(last["env_steps"]) == counters["env_steps"] and float(last["perf/steps_discarded"]) == discarded
    text = caplog.text
    assert f"env worker {lost} died on node {node2} (the node is lost" in text
    assert f"env worker {lost} started on node {head} ({ip}) without its 1 CPUs" in text
    assert f"{discarded} env steps, not counted in env_steps" in text
    assert f"node {joined[0]} ({ip}) has room: moving env worker {lost} there" in text
