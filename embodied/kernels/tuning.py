"""Block sizes, warps and pipeline stages of the Triton kernels: autotune candidates keyed on head dim and length.

Compiled (on a GPU), each kernel runs through ``triton.autotune`` over its candidates, keyed on the head dim
and the length rounded up to a power of two (``LEN_BUCKET``) and on the input dtype, so a process times the
candidates once per (kernel, dtype, head dim, length bucket) and reuses the fastest instead of a hand guess.
``EMBODIED_TRITON_AUTOTUNE=0`` skips the timing and uses one default config per head dim.

Under ``TRITON_INTERPRET=1`` (CPU tests) the candidates collapse to one small tile: the interpreter runs every
program in Python, where timing tiles would measure nothing and cost minutes. ``pinned(config)`` forces one
config (the GPU check runs every candidate against the reference that way).
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

import triton

KINDS = ("fwd", "bwd", "decode")


def interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


def autotuning() -> bool:
    """Whether compiled kernels time their candidates (default) or take the per-head-dim default."""
    return os.environ.get("EMBODIED_TRITON_AUTOTUNE", "1") != "0"


def tile_config(block_m: int, block_n: int, warps: int, stages: int) -> triton.Config:
    meta = {"BLOCK_N": block_n} if block_m == 0 else {"BLOCK_M": block_m, "BLOCK_N": block_n}
    return triton.Config(meta, num_warps=warps, num_stages=stages)


# (BLOCK_M, BLOCK_N, warps, stages); BLOCK_M = 0: the decode kernel has no query tile.
_CANDIDATES = {  # six each: every candidate is compiled once per key, and the GPU check's budget is minutes
    "fwd": [(128, 64, 8, 3), (128, 64, 4, 3), (128, 128, 8, 2), (128, 32, 4, 2), (64, 64, 4, 3), (64, 32, 4, 3)],
    "bwd": [(64, 64, 4, 2), (64, 64, 8, 2), (32, 64, 4, 2), (64, 32, 4, 2), (128, 64, 8, 2), (64, 128, 8, 2)],
    "decode": [(0, 32, 4, 2), (0, 64, 4, 2), (0, 128, 4, 3), (0, 128, 8, 2), (0, 256, 4, 2), (0, 16, 4, 3)],
}
_INTERPRETED = {"fwd": (16, 16, 1, 1), "bwd": (16, 16, 1, 1), "decode": (0, 16, 1, 1)}
_pinned: dict[str, triton.Config] = {}


def candidates(kind: str) -> list[triton.Config]:
    """The configs ``kind``'s autotuner chooses from (one under the interpreter)."""
    if kind not in KINDS:
        raise ValueError(f"kernel kind {kind!r} is unknown; allowed: {list(KINDS)}")
    if interpreting():
        return [tile_config(*_INTERPRETED[kind])]
    return [tile_config(*c) for c in _CANDIDATES[kind]]


def default(kind: str, d: int) -> triton.Config:
    """The config used without autotuning: the hand-picked tiles of the first kernels."""
    if interpreting():
        return candidates(kind)[0]
    if kind == "decode":
        return tile_config(0, 16 if d >= 128 else 32, 4, 2)
    return tile_config(64, 64 if d <= 64 else 32, 4, 2)


def length_bucket(n: int) -> int:
    """The autotune key's length: ``n`` rounded up to a power of two (one timing per bucket, not per length)."""
    return triton.next_power_of_2(max(int(n), 1))


@contextlib.contextmanager
def pinned(kind: str, config: triton.Config) -> Iterator[None]:
    """Run ``kind``'s kernels with ``config`` inside the block (no autotuning)."""
    candidates(kind)  # checks the kind
    before = _pinned.get(kind)
    _pinned[kind] = config
    try:
        yield
    finally:
        if before is None:
            _pinned.pop(kind)
        else:
            _pinned[kind] = before


def tile_sizes(kind: str, name: str) -> list[int]:
    """Every ``name`` tile (BLOCK_M, BLOCK_N) a ``kind`` kernel may run with: buffers sized per tile fit them all."""
    configs = candidates(kind) + [c for c in (_pinned.get(kind),) if c is not None]
    return [c.kwargs[name] for c in configs]


class Tunable:
    """A jitted kernel and its autotuned twin; ``launch`` picks the pinned, tuned or default config."""

    def __init__(self, kernel: triton.JITFunction, kind: str):
        self.kernel, self.kind = kernel, kind
        self.tuned = triton.autotune(candidates(kind), key=["D", "LEN_BUCKET"])(kernel)

    def launch(self, grid: Callable[[dict], tuple[int, ...]], *args, **kwargs) -> None:
        config = _pinned.get(self.kind)
        if config is None and (interpreting() or autotuning()):
            self.tuned[grid](*args, **kwargs)
            return
        config = config or default(self.kind, kwargs["D"])
        self.kernel[grid](*args, **kwargs, **config.all_kwargs())

    def chosen(self) -> dict[tuple, triton.Config]:
        """The configs the autotuner picked so far, by key (head dim, length bucket, dtypes)."""
        return dict(self.tuned.cache)
