"""Planner test fixtures: the real all-MiniLM-L6-v2 embedder, loaded once per test session."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def minilm():
    from embodied.planner.embedders import MiniLMEmbedder
    return MiniLMEmbedder()


@pytest.fixture
def hash_embedder():
    from embodied.planner.embedders import HashEmbedder
    return HashEmbedder(128)
