"""Where a replacement env worker may go: live nodes only, one with free CPUs for it when there is one.

Ray marks a lost node dead only after its health checks fail (``health_check_period_ms`` x
``health_check_failure_threshold`` after ``health_check_initial_delay_ms``: 15-30 s with the defaults),
and until then it still schedules onto it: the replacement of a worker lost with its node could land on
that node and die too. A node therefore counts as live only if Ray reports it alive *and* its raylet
accepts a connection: a killed raylet refuses at once, a vanished host times out within a second.
"""
from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)
PROBE_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class Placement:
    """A node for a worker; ``reserved``: the node has room for the worker's CPUs (else it runs without them)."""

    node: str
    ip: str
    reserved: bool


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False


def live_nodes() -> dict[str, str]:
    """``{node id: IP}`` of the nodes Ray reports alive whose raylet answers."""
    import ray

    return {n["NodeID"]: n["NodeManagerAddress"] for n in ray.nodes()
            if n["Alive"] and _answers(n["NodeManagerAddress"], n["NodeManagerPort"])}


def is_live(node: str) -> bool:
    """Whether ``node`` (a hex node id) is alive and its raylet answers."""
    return node in live_nodes()


def choose(cpus: float, load: Mapping[str, int]) -> Placement | None:
    """A live node for a worker that reserves ``cpus``: the one with the most free CPUs among those with room;
    when none has room, the live node with the fewest of our workers (``load``), unreserved; None if none is live.

    Free CPUs come from Ray's per-node view (a developer API: the public one needs the dashboard).
    """
    from ray._private.state import available_resources_per_node

    nodes = live_nodes()
    free = {n: r.get("CPU", 0.0) for n, r in available_resources_per_node().items() if n in nodes}
    roomy = [n for n in nodes if free.get(n, 0.0) >= cpus]
    if roomy:
        best = max(roomy, key=lambda n: free[n])
        return Placement(best, nodes[best], True)
    if not nodes:
        return None
    best = min(nodes, key=lambda n: load.get(n, 0))
    return Placement(best, nodes[best], False)
