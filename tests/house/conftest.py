"""Fixtures of the house tests: an episode in the one-room house of ``house_maps.ROOM``."""
from __future__ import annotations

import pytest
from house_maps import ROOM, episode


@pytest.fixture
def room_episode():
    return lambda **kw: episode(ROOM, {"a": "refrigerator"}, "refrigerator", **kw)
