"""Fixture ``case``: a builder of random attention cases with float64 reference results."""
from __future__ import annotations

import pytest

from attention_cases import make_case


@pytest.fixture
def case():
    return make_case

