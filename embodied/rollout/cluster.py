"""Cluster start-up for ``cluster=inprocess|local|ray``: what runs the env workers, and its lifetime."""
from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

from omegaconf import DictConfig

from embodied.config import ConfigError, choice

log = logging.getLogger(__name__)
MODES = ("inprocess", "local", "ray")


@contextlib.contextmanager
def started(cfg: DictConfig) -> Iterator[bool]:
    """Start (or join) Ray as ``cfg.cluster.mode`` says; yields whether workers are Ray actors.

    ``local`` starts a Ray sized to this machine with a small object store and always shuts it down;
    ``ray`` joins the cluster at ``cfg.address`` and disconnects at the end. A Ray that is already
    running in this process (tests, notebooks) is used as is and left running.
    """
    mode = choice(cfg, "cluster.mode", MODES)
    cfg = cfg.cluster
    if mode == "inprocess":
        yield False
        return
    import ray

    if ray.is_initialized():
        yield True
        return
    if mode == "local":
        num_cpus = cfg.get("num_cpus") or os.cpu_count()
        ray.init(num_cpus=num_cpus, object_store_memory=int(cfg.object_store_mb) * 2**20,
                 include_dashboard=False, log_to_driver=bool(cfg.get("log_to_driver", False)),
                 configure_logging=False)
        log.info("started a local Ray with %s CPUs and a %s MB object store", num_cpus, cfg.object_store_mb)
    else:
        address = cfg.get("address")
        if not address:
            raise ConfigError("cluster.address is required with cluster=ray (e.g. cluster.address=ray://head:10001 "
                              "or cluster.address=auto)")
        ray.init(address=address, log_to_driver=bool(cfg.get("log_to_driver", False)))
        log.info("joined the Ray cluster at %s", address)
    try:
        yield True
    finally:
        ray.shutdown()
