"""Fixture ``seed``: a fresh seed per test (printed in failure messages to replay a failure)."""
from __future__ import annotations

import random

import pytest
import torch


@pytest.fixture
def seed() -> int:
    return random.SystemRandom().randrange(2**31)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread while these tests run: on a small shared machine, OpenMP threads spinning
    against other processes made the chunked attention loops ~5x slower than one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
