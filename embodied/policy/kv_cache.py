"""The preallocated KV cache of the transformer policy: the recurrent state of ``Policy.step``."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class KVCache:
    """Keys and values ``(layers, B, H, max_steps, head_dim)`` of every step of each env's trial so far.

    ``lengths[b]`` slots are filled; ``key_start[b]`` is the first slot the next query may see (0 with
    attention across episodes, the running episode's first slot with ``inter_episode: false``).
    ``memory_start[b]`` is the same for the memory attention of a policy with an episodic core, whose
    layers' keys and values follow the episodic layers' in ``k`` and ``v``.
    The sink slot is a parameter, never stored here. ``queries`` ``(layers, B, H, head_dim)`` holds the latest
    step's query of every layer, so that what it attended to can be read back (``Policy.attention``).
    """

    k: torch.Tensor
    v: torch.Tensor
    lengths: torch.Tensor
    key_start: torch.Tensor
    queries: torch.Tensor
    memory_start: torch.Tensor

    @classmethod
    def empty(cls, layers: int, batch: int, heads: int, max_steps: int, head_dim: int,
              dtype: torch.dtype, device: torch.device | str) -> KVCache:
        shape = (layers, batch, heads, max_steps, head_dim)
        zeros = torch.zeros(batch, dtype=torch.long, device=device)
        return cls(torch.zeros(shape, dtype=dtype, device=device), torch.zeros(shape, dtype=dtype, device=device),
                   zeros, zeros.clone(), torch.zeros((layers, batch, heads, head_dim), dtype=dtype, device=device),
                   zeros.clone())

    def select(self, rows: torch.Tensor | slice) -> KVCache:
        """The caches of envs ``rows`` (views for a slice: appending to them fills this cache's slots)."""
        return KVCache(self.k[:, rows], self.v[:, rows], self.lengths[rows], self.key_start[rows], self.queries[:, rows],
                       self.memory_start[rows])

    @property
    def max_steps(self) -> int:
        return self.k.shape[3]

    @property
    def bytes_per_step(self) -> int:
        """Cache memory one env adds per step (keys and values of every layer and head)."""
        layers, _, heads, _, head_dim = self.k.shape
        return 2 * layers * heads * head_dim * self.k.element_size()

    @property
    def nbytes(self) -> int:
        return self.k.nbytes + self.v.nbytes

    def reset(self, mask: torch.Tensor) -> None:
        """Empty the caches of the envs in ``mask`` (bool ``(B,)``): they start a new trial."""
        self.lengths = torch.where(mask, 0, self.lengths)
        self.key_start = torch.where(mask, 0, self.key_start)
        self.memory_start = torch.where(mask, 0, self.memory_start)

    def append_slots(self) -> torch.Tensor:
        """Slot index of each env's new step; fails clearly when an env's trial outgrows the cache."""
        if bool((self.lengths >= self.max_steps).any()):
            full = torch.nonzero(self.lengths >= self.max_steps).flatten().tolist()
            raise RuntimeError(f"KV cache full for envs {full}: max_steps={self.max_steps}; "
                               "pass a larger max_steps to initial_state (one slot per step of a trial)")
        return self.lengths

    def write(self, layer: int, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, slots: torch.Tensor) -> None:
        """Store one step's ``k, v (B, H, D)`` of ``layer`` at ``slots (B,)``, and its query ``q``."""
        self.queries[layer] = q.to(self.queries.dtype)
        rows = torch.arange(k.shape[0], device=k.device)
        self.k[layer, rows, :, slots] = k.to(self.k.dtype)
        self.v[layer, rows, :, slots] = v.to(self.v.dtype)
