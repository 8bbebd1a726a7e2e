"""Fixture ``case``: a builder of random attention cases with float64 reference results."""
from __future__ import annotations

import pytest
import torch

from attention_cases import make_case


@pytest.fixture
def case():
    return make_case


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread while these tests run: on a small shared machine, OpenMP threads spinning
    against other processes made the chunked attention loops ~5x slower than one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
