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
    """Start (or join) Ray as ``cfg.cluster.mode`` says; yields whether workers are Ray actors."""
    mode = choice(cfg, "cluster.mode", MODES)
    cfg = cfg.cluster
    if mode == "inprocess":
        yield False
        return
    with ray_started(cfg.get("address") if mode == "ray" else None, num_cpus=cfg.get("num_cpus"),
                     object_store_mb=cfg.get("object_store_mb", 256),
                     log_to_driver=bool(cfg.get("log_to_driver", False)), join=mode == "ray"):
        yield True


@contextlib.contextmanager
def ray_started(address: str | None = None, *, num_cpus: int | None = None, object_store_mb: int = 256,
                log_to_driver: bool = False, join: bool = False) -> Iterator[None]:
    """Ray for the duration of the block, shared by training and evaluation.

    Without ``join``: a new local Ray (never one that ``ray start`` left running) sized to this machine (``num_cpus``, default all cores) with a small
    object store, no dashboard and workers at the driver's priority. With ``join``: the cluster at ``address``. Either way it is shut down
    at the end. A Ray that is already running in this process (tests, notebooks, an outer block) is used
    as is and left running.
    """
    import ray

    if ray.is_initialized():
        yield
        return
    if join:
        if not address:
            raise ConfigError("cluster.address is required with cluster=ray (e.g. cluster.address=ray://head:10001 "
                              "or cluster.address=auto)")
        ray.init(address=address, log_to_driver=log_to_driver)
        log.info("joined the Ray cluster at %s", address)
    else:
        num_cpus = num_cpus or os.cpu_count()
        # Ray renices its workers to 15; ours step the envs the learner waits for, so on a machine that is busy
        # with anything else they would starve (a default run took 4x its time beside two other trainings).
        ray.init(address="local", num_cpus=num_cpus, object_store_memory=int(object_store_mb) * 2**20, include_dashboard=False,
                 log_to_driver=log_to_driver, configure_logging=False, _system_config={"worker_niceness": 0})
        log.info("started a local Ray with %s CPUs and a %s MB object store", num_cpus, object_store_mb)
    try:
        yield
    finally:
        ray.shutdown()
