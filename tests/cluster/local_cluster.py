"""A multi-node Ray cluster on this machine (``ray.cluster_utils.Cluster``), for the node-loss tests and
``benchmarks/fault_recovery.py``.

Every node is on this machine's own address (Ray's default; a driver given 127.0.0.1 would rewrite it to
that address anyway and then miss a GCS bound to loopback).

Each node is a raylet with its own object store (``OBJECT_STORE_MB``, small: the tests move little data);
``FAST_HEALTH_CHECKS`` make the GCS declare a lost node dead after ~1.5 s instead of Ray's default
``health_check_initial_delay_ms=5000``, ``health_check_period_ms=3000``, ``health_check_failure_threshold=5``
(15-30 s). The pool does not wait for either: a node whose raylet does not answer is not used at once.
"""
from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

OBJECT_STORE_MB = 80
FAST_HEALTH_CHECKS = {"health_check_initial_delay_ms": 500, "health_check_period_ms": 500,
                      "health_check_timeout_ms": 500, "health_check_failure_threshold": 3}


def node_args(cpus: float) -> dict[str, Any]:
    return {"num_cpus": cpus, "object_store_memory": OBJECT_STORE_MB * 2**20}


@contextlib.contextmanager
def cluster(cpus: Mapping[str, float], system_config: Mapping[str, Any] | None = None) -> Iterator[Any]:
    """A head (``cpus['head']`` CPUs) and one node per other key, this process connected as the driver;
    everything shut down at the end. Yields the ``Cluster`` (``.head_node``, ``.worker_nodes``, ``.add_node``)."""
    import ray
    from ray.cluster_utils import Cluster

    head = {**node_args(cpus["head"]), "include_dashboard": False, "_system_config": dict(system_config or {})}
    local = Cluster(initialize_head=True, head_node_args=head)
    try:
        for name, n in cpus.items():
            if name != "head":
                local.add_node(**node_args(n))
        local.wait_for_nodes()
        ray.init(address=local.address, log_to_driver=False)
        yield local
    finally:
        ray.shutdown()
        local.shutdown()


def kill_raylet(local: Any, node: Any) -> None:
    """SIGKILL ``node``'s raylet (a crashed or pre-empted host), then remove what is left of the node.

    The raylet is reaped at once: its workers leave when their raylet's PID is gone, which a zombie's is not.
    """
    from ray._private import ray_constants

    raylet = node.all_processes[ray_constants.PROCESS_TYPE_RAYLET][0].process
    os.kill(raylet.pid, signal.SIGKILL)
    raylet.wait()
    local.remove_node(node, allow_graceful=False)


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has exited (Linux: no /proc entry, or a zombie nobody has reaped yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].startswith("Z")
    except FileNotFoundError:
        return True


def wait_exited(pid: int, timeout: float = 30.0) -> None:
    """Wait until a worker of a killed node has exited (it does once it sees its raylet gone, ~1 s)."""
    deadline = time.monotonic() + timeout
    while not _gone(pid):
        if time.monotonic() > deadline:
            raise TimeoutError(f"process {pid} of the killed node did not exit within {timeout} s")
        time.sleep(0.05)
