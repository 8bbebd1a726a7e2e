"""Double-buffered collection: the env batch is split in two halves that alternate.

Each worker holds two env batches (slots 0 and 1). Half ``h`` is slot ``h`` of every worker. While the
workers simulate one half, the learner's process runs policy inference on the other, so with Ray the
simulation overlaps inference. In-process nothing overlaps, so there the collector runs one "half" holding
every env (``cluster.double_buffer: false``): one inference call per step instead of two, at about the cost
of one (inference on a few envs is per-call overhead, not arithmetic).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from embodied.rollout.pool import WorkerPool


def double_buffer(cluster: Mapping[str, Any], overlap: bool = False) -> bool:
    """``cluster.double_buffer``. ``auto``: on, unless the workers share this machine (local Ray) with updates running
    beside acting (``overlap``): the update thread then takes the core that a second env batch would simulate on,
    and the second batch only adds contention and calls (local Ray x0.90 -> x0.985 of in-process on 2 cores,
    benchmarks/reports/training_speed.md). Configs saved before the key existed: on with Ray workers, off in-process."""
    setting = cluster.get("double_buffer", cluster.get("mode") != "inprocess")
    if setting == "auto":
        return not (overlap and cluster.get("mode") == "local")
    return bool(setting)


def _concat(parts: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([np.asarray(p[k]) for p in parts]) for k in parts[0]}


class Collector:
    """Steps the halves of a :class:`WorkerPool` (one per slot of its workers: two, or one) asynchronously.

    Buffer rows: half ``h`` owns rows ``[h * N/halves, (h + 1) * N/halves)``, ordered by worker.
    """

    def __init__(self, pool: WorkerPool, envs_per_slot: int):
        self.pool = pool
        self.envs_per_slot = envs_per_slot
        self.num_workers = len(pool.workers)
        self.halves = range(len(pool.seeds[0]))
        self.half_size = envs_per_slot * self.num_workers
        self.num_envs = len(self.halves) * self.half_size
        self.rows = [slice(h * self.half_size, (h + 1) * self.half_size) for h in self.halves]
        self._pending: dict[int, list[Any]] = {}

    def reset(self, seed_of: Callable[[int, int], int]) -> list[dict[str, np.ndarray]]:
        """Start new trials in every env; ``seed_of(worker, slot)`` gives each batch its seed."""
        self.drop_pending()
        obs = []
        for h in self.halves:
            handles = [self.pool.submit(w, "reset", h, seed_of(w, h)) for w in range(self.num_workers)]
            obs.append(_concat(self.pool.get(handles, range(self.num_workers))))
        return obs

    def submit(self, half: int, action: np.ndarray) -> None:
        """Send half ``half``'s actions to its workers without waiting."""
        e = self.envs_per_slot
        self._pending[half] = [self.pool.submit(w, "step", half, action[w * e:(w + 1) * e])
                               for w in range(self.num_workers)]

    def busy(self, half: int) -> bool:
        return half in self._pending

    def wait(self, half: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """The ``(obs, reward, done, info)`` of half ``half``'s outstanding step."""
        handles = self._pending.pop(half)
        results = self.pool.get(handles, range(self.num_workers))
        obs = _concat([r[0] for r in results])
        reward = np.concatenate([r[1] for r in results])
        done = np.concatenate([r[2] for r in results])
        info = _concat([{k: v for k, v in r[3].items() if isinstance(v, np.ndarray)} for r in results])
        return obs, reward, done, info

    def drop_pending(self) -> None:
        """Forget outstanding steps (after a worker loss; the next reset restarts every env)."""
        for handles in self._pending.values():
            self.pool.forget(handles)
        self._pending.clear()
