"""Fixture ``seed``: a fresh seed per test (printed in failure messages to replay a failure)."""
from __future__ import annotations

import random

import pytest


@pytest.fixture
def seed() -> int:
    return random.SystemRandom().randrange(2**31)

