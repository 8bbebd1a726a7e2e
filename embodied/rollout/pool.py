"""A pool of env workers, in-process or Ray actors, that restarts the ones that die."""
from __future__ import annotations

import collections
import functools
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from embodied.rollout import placement
from embodied.rollout.channel import Channel, ChannelClosed, Ticket
from embodied.rollout.placement import Placement
from embodied.rollout.worker import EnvWorker

log = logging.getLogger(__name__)
RESTART_ATTEMPTS = 5  # tries to start a replacement worker, 1, 2, 4, 8 s apart, before training gives up
RESTART_BACKOFF_S = 1.0
START_TIMEOUT_S = 120.0  # a replacement not up by then counts as a failed try (its node may be going away)


class WorkerLost(RuntimeError):
    """Workers died mid-rollout; they have been replaced with fresh envs, the rollout must be redone."""

    def __init__(self, indices: Sequence[int], where: str = ""):
        super().__init__(f"env workers {list(indices)} {where + ' ' if where else ''}died and were restarted"
                         if indices else f"an env worker {where} died")
        self.indices = list(indices)


class RestartFailed(RuntimeError):
    """A lost worker could not be started again on any live node: training cannot go on."""


class _Done:
    """The already-computed result of an in-process call (the same shape of use as a Ray ObjectRef)."""

    def __init__(self, fn: Callable[[], Any]):
        try:
            self.value, self.error = fn(), None
        except Exception as e:  # noqa: BLE001 -- any error of the call is re-raised in get(), as Ray does
            self.value, self.error = None, e

    @classmethod
    def failed(cls, error: Exception) -> _Done:
        done = cls.__new__(cls)
        done.value, done.error = None, error
        return done

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


def _ray_client() -> bool:
    """Whether this process drives a cluster through Ray Client (``ray://``): then it is outside the cluster's
    network, and cannot reach the workers directly."""
    try:
        import ray

        return ray.util.client.ray.is_connected()
    except ImportError:
        return False


class WorkerPool:
    """``num_workers`` :class:`EnvWorker` s, each built with ``seeds[i]``; ``remote`` makes them Ray actors.

    With ``direct`` (the default) the calls to Ray actors travel over a :class:`Channel` to each worker
    instead of as Ray tasks (~10x cheaper); Ray still starts, kills and restarts the actors.

    A replacement goes to a live node (:mod:`placement`), with room for its ``worker_cpus`` when a node has
    room; else it runs without that reservation beside the survivors (the env batch keeps its size) and
    :meth:`rebalance` moves it once a node with room joins.
    """

    def __init__(self, env_cfg: Mapping[str, Any], seeds: Sequence[Sequence[int]], remote: bool,
                 worker_cpus: float = 1.0, on_restart: Callable[[int, str], None] | None = None,
                 factory: Callable[..., Any] | None = None, teacher: str | None = None,
                 record: Mapping[str, Any] | None = None, direct: bool = True):
        self.env_cfg, self.seeds, self.remote = dict(env_cfg), [list(s) for s in seeds], remote
        self.channels: list[Channel | None] = [None] * len(self.seeds)
        self.direct = direct and remote and not _ray_client()
        self.factory, self.teacher, self.record = factory, teacher, record
        self.generations = [0] * len(self.seeds)  # starts of each worker: keeps recorded file names unique
        self.worker_cpus = worker_cpus
        self.on_restart = on_restart
        self.restarts = 0
        self.encoder: Mapping[str, Any] | None = None
        self.nodes: list[str | None] = [None] * len(self.seeds)  # each Ray worker's node id
        self.reserved = [True] * len(self.seeds)  # whether it holds its worker_cpus (see rebalance)
        self.workers = [self._start(i) for i in range(len(self.seeds))]

    def _start(self, i: int, where: Placement | None = None):
        """Start worker ``i`` on ``where`` (None: wherever Ray puts it, waiting for room) and wait until it is up."""
        record = self.record and {**self.record, "prefix": f"w{i}g{self.generations[i]}"}
        self.generations[i] += 1
        args = (self.env_cfg, self.seeds[i], self.factory, self.teacher, record, self.encoder)
        if not self.remote:
            return EnvWorker(*args)
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        options: dict[str, Any] = {"num_cpus": self.worker_cpus, "max_restarts": 0}
        if where is not None:
            options.update(num_cpus=self.worker_cpus if where.reserved else 0,
                           scheduling_strategy=NodeAffinitySchedulingStrategy(where.node, soft=False))
        actor = ray.remote(EnvWorker).options(**options).remote(*args)
        authkey = os.urandom(32)
        try:
            self.nodes[i] = ray.get(actor.node_id.remote(), timeout=None if where is None else START_TIMEOUT_S)
            address = ray.get(actor.open_channel.remote(authkey)) if self.direct else None
        except BaseException:
            ray.kill(actor, no_restart=True)
            raise
        self.reserved[i] = where is None or where.reserved
        if self.direct:
            try:
                self.channels[i] = Channel(address, authkey, alive=functools.partial(placement.is_live, self.nodes[i]))
            except OSError as e:
                log.warning("cannot connect to env worker %d at %s (%s); its calls go as Ray tasks", i, address, e)
        return actor

    def submit(self, i: int, method: str, *args: Any):
        """Start ``method(*args)`` on worker ``i``; returns a handle for :meth:`get`."""
        if self.channels[i] is not None:
            try:
                return self.channels[i].submit(method, *args)
            except ChannelClosed as e:  # the answer will say so; keep the handles in step with the workers
                return _Done.failed(e)
        if self.remote:
            return getattr(self.workers[i], method).remote(*args)
        return _Done(lambda: getattr(self.workers[i], method)(*args))

    def get(self, handles: Sequence[Any], indices: Sequence[int]) -> list[Any]:
        """Results of ``handles`` (submitted to workers ``indices``); restarts dead workers and raises WorkerLost."""
        if not self.remote:
            return [h.result() for h in handles]
        import ray
        from ray.exceptions import RayActorError

        results, dead = [], []
        for h, i in zip(handles, indices):
            try:
                if isinstance(h, Ticket):
                    results.append(h.channel.result(h))
                elif isinstance(h, _Done):
                    results.append(h.result())
                else:
                    results.append(ray.get(h))
            except (RayActorError, ChannelClosed) as e:
                dead.append(i)
                self.restart(i, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        if dead:
            raise WorkerLost(dead)
        return results

    def forget(self, handles: Sequence[Any]) -> None:
        """Nobody will :meth:`get` these handles (a rollout given up): drop their results."""
        for h in handles:
            if isinstance(h, Ticket):
                h.channel.forget(h)

    def call(self, method: str, *args: Any) -> list[Any]:
        """``method(*args)`` on every worker, results in worker order."""
        indices = range(len(self.workers))
        return self.get([self.submit(i, method, *args) for i in indices], indices)

    def restart(self, i: int, reason: str) -> None:
        """Replace worker ``i`` by a fresh one with the same seeds (new envs) on a live node; raises
        :class:`RestartFailed` when no try succeeds."""
        node = self.nodes[i]
        lost = node is not None and not placement.is_live(node)
        log.warning("env worker %d died on node %s%s (%s); restarting it with fresh envs", i, node,
                    " (the node is lost: Ray reports it dead or its raylet does not answer)" if lost else "", reason)
        self._stop(i)
        self._replace(i)
        self.restarts += 1
        if self.on_restart:
            self.on_restart(i, reason)

    def _stop(self, i: int) -> None:
        import ray

        if self.channels[i] is not None:
            self.channels[i].close()
            self.channels[i] = None
        try:
            ray.kill(self.workers[i], no_restart=True)
        except ValueError as e:  # not a live actor handle any more
            log.debug("ray.kill of worker %d: %s", i, e)
        self.nodes[i] = None

    def _replace(self, i: int) -> None:
        """Start worker ``i`` on a live node, retrying with back-off (the cluster may be losing more nodes)."""
        from ray.exceptions import RayError

        delay, error = RESTART_BACKOFF_S, "no live node"
        for attempt in range(1, RESTART_ATTEMPTS + 1):
            load = collections.Counter(n for n in self.nodes if n is not None)
            where = placement.choose(self.worker_cpus, load)
            if where is not None:
                try:
                    self.workers[i] = self._start(i, where)
                except RayError as e:
                    error = f"on node {where.node}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                else:
                    if where.reserved:
                        log.warning("env worker %d started on node %s (%s)", i, where.node, where.ip)
                    else:
                        log.warning("env worker %d started on node %s (%s) without its %g CPUs: no live node has "
                                    "room for it, so it shares the survivors' CPUs (same env batch, slower) until "
                                    "a node with room joins", i, where.node, where.ip, self.worker_cpus)
                    return
            if attempt < RESTART_ATTEMPTS:
                log.warning("could not start env worker %d (try %d of %d, %s); trying again in %g s", i, attempt,
                            RESTART_ATTEMPTS, error, delay)
                time.sleep(delay)
                delay *= 2
        raise RestartFailed(f"env worker {i} could not be started again after {RESTART_ATTEMPTS} tries ({error})")

    def rebalance(self) -> None:
        """Move the workers running without their CPU reservation to nodes with room, when such nodes have
        joined (called between rollouts, when every env is reset anyway, so nothing is lost)."""
        for i in [i for i in range(len(self.workers)) if not self.reserved[i]]:
            where = placement.choose(self.worker_cpus, {})
            if where is None or not where.reserved:
                return
            log.warning("node %s (%s) has room: moving env worker %d there from node %s", where.node, where.ip,
                        i, self.nodes[i])
            self._stop(i)
            self._replace(i)

    def use_encoder(self, replica: Mapping[str, Any]) -> None:
        """Every worker, and every worker started later, returns this frozen encoder's features, not frames."""
        self.encoder = replica
        self.call("use_encoder", replica)

    def pids(self) -> list[int]:
        return self.call("pid")

    def close(self) -> None:
        if self.remote:
            for i in range(len(self.workers)):
                self._stop(i)
        else:
            for w in self.workers:
                w.close()
