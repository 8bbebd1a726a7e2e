"""Shared fixtures: one local Ray for the whole test session, started and shut down here."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Triton reads this when a kernel module is first imported, and any test may import one first: set it
# for the whole session so the interpreted-kernel tests run on CPU whatever the collection order.
os.environ.setdefault("TRITON_INTERPRET", "1")


def _start_local_ray() -> None:
    """A small local Ray of its own (2 CPUs, 200 MB object store; never a cluster someone else started)."""
    import ray

    ray.init(address="local", num_cpus=2, object_store_memory=200 * 1024 * 1024, include_dashboard=False,
             log_to_driver=False, ignore_reinit_error=True)


@pytest.fixture(scope="session")
def _local_ray():
    _start_local_ray()
    yield
    import ray

    ray.shutdown()


@pytest.fixture
def ray_session(_local_ray):
    """A small local Ray (2 CPUs, 200 MB object store), shared by every test that asks for it; started
    again if a test of its own cluster (tests/cluster) stopped it."""
    import ray

    if not ray.is_initialized():
        _start_local_ray()
    return ray


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread per test: the tensors in tests are small, and on a 2-core machine shared with
    Ray workers, OpenMP threads spinning against other processes made attention loops ~5x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
