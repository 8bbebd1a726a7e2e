"""Recovery from a lost node: a 2-node Ray cluster on this machine trains the house env; the second node's
raylet is SIGKILLed mid-rollout.

Reports ``recovery_s`` (from the kill to the first rollout step completed after it: detecting the loss,
starting the replacement worker on the surviving node, resetting the envs) and ``steps_discarded`` (env steps
collected since the last update and thrown away, never counted in ``env_steps``). The cluster keeps Ray's
default health checks (``health_check_period_ms`` 3000 x ``health_check_failure_threshold`` 5): the pool does
not wait for them, as a node whose raylet does not answer is not used.

    python benchmarks/fault_recovery.py [--rollouts N] [key=value train overrides]

The last line of stdout is one JSON object. A few minutes on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "cluster"))

import local_cluster  # noqa: E402 -- after the path above

from embodied.config import load  # noqa: E402
from embodied.learner.trainer import Trainer  # noqa: E402

DEFAULTS = ["cluster=ray", "cluster.num_workers=2", "cluster.worker_cpus=1", "trainer.num_envs=8",
            "trainer.rollout_steps=32", "trainer.update_every=16", "progress=false", "tensorboard=false"]


class KilledMidway(Trainer):
    """Kills ``node``'s raylet when ``env_steps`` first reaches ``kill_at`` and waits for its worker (``pid``) to
    exit, so that the loss falls mid-rollout; notes when the next step completes."""

    kill_at, killed_at, recovered_at = 0, 0.0, 0.0

    def _receive(self, half: int, t: int) -> None:
        super()._receive(half, t)
        if self.killed_at and not self.recovered_at and self.counters["worker_restarts"]:
            self.recovered_at = time.monotonic()
        if self.counters["env_steps"] == self.kill_at and not self.killed_at:
            self.killed_at = time.monotonic()
            local_cluster.kill_raylet(self.local, self.node)
            local_cluster.wait_exited(self.pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rollouts", type=int, default=4,
                        help="rollouts to train (the kill is in the 2nd)")
    args, overrides = parser.parse_known_args()
    cfg = load("train", [*DEFAULTS, *overrides])
    per_rollout = cfg.trainer.rollout_steps * cfg.trainer.num_envs
    cfg.trainer.total_steps = args.rollouts * per_rollout
    logging.getLogger("embodied").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp, local_cluster.cluster({"head": 1, "node2": 1}) as local:
        trainer = KilledMidway(cfg, Path(tmp), remote=True, progress=False, tensorboard=False)
        try:
            trainer.local, trainer.node = local, next(iter(local.worker_nodes))
            trainer.pid = trainer.pool.pids()[trainer.pool.nodes.index(trainer.node.node_id)]
            # 2 half-steps past the rollout's first update
            trainer.kill_at = per_rollout + cfg.trainer.update_every * cfg.trainer.num_envs + cfg.trainer.num_envs
            start = time.monotonic()
            result = trainer.train()
        finally:
            trainer.close()
    counters = result["counters"]
    if not trainer.recovered_at:
        sys.exit("the run ended before the lost node was noticed: raise --rollouts")
    print(json.dumps({"recovery_s": round(trainer.recovered_at - trainer.killed_at, 2),
                      "steps_discarded": counters["steps_discarded"], "env_steps": counters["env_steps"],
                      "worker_restarts": counters["worker_restarts"], "wall_s": round(time.monotonic() - start, 1),
                      "health_check_period_ms": 3000, "health_check_failure_threshold": 5}))


if __name__ == "__main__":
    main()
