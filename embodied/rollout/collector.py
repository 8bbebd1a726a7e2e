"""Double-buffered collection: the env batch is split in two halves that alternate.

Each worker holds two env batches (slots 0 and 1). Half ``h`` is slot ``h`` of every worker. While the
workers simulate one half, the learner's process runs policy inference on the other, so with Ray the
simulation overlaps inference; in-process the same calls simply run one after the other.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from embodied.rollout.pool import WorkerPool

HALVES = (0, 1)


def _concat(parts: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([np.asarray(p[k]) for p in parts]) for k in parts[0]}


class Collector:
    """Steps the two halves of a :class:`WorkerPool` asynchronously.

    Buffer rows: half ``h`` owns rows ``[h * N/2, (h + 1) * N/2)``, ordered by worker.
    """

    def __init__(self, pool: WorkerPool, envs_per_slot: int):
        self.pool = pool
        self.envs_per_slot = envs_per_slot
        self.num_workers = len(pool.workers)
        self.half_size = envs_per_slot * self.num_workers
        self.num_envs = 2 * self.half_size
        self.rows = [slice(h * self.half_size, (h + 1) * self.half_size) for h in HALVES]
        self._pending: dict[int, list[Any]] = {}

    def reset(self, seed_of: Callable[[int, int], int]) -> list[dict[str, np.ndarray]]:
        """Start new trials in every env; ``seed_of(worker, slot)`` gives each batch its seed."""
        self.drop_pending()
        obs = []
        for h in HALVES:
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
