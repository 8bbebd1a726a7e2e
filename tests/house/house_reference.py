"""Reference implementations the tests compare the fast paths against (plain Python, obviously right)."""
from __future__ import annotations

import heapq

import numpy as np

from envs.house.geodesic import MOVE_LEN, MOVES, move_clear


def dijkstra(grid: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Textbook Dijkstra over the same 16-neighbour graph; ``dist`` (h, w) holds the sources."""
    dist = dist.astype(np.float64).copy()
    h, w = grid.shape
    heap = [(dist[r, c], r, c) for r in range(h) for c in range(w) if np.isfinite(dist[r, c])]
    heapq.heapify(heap)
    while heap:
        d, r, c = heapq.heappop(heap)
        if d > dist[r, c]:
            continue
        for (dr, dc), step in zip(MOVES, MOVE_LEN):
            if move_clear(grid, r, c, dr, dc) and d + step < dist[r + dr, c + dc]:
                dist[r + dr, c + dc] = d + step
                heapq.heappush(heap, (dist[r + dr, c + dc], r + dr, c + dc))
    return dist
