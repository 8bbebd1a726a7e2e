"""The cluster tests start Ray clusters of their own: the session's local Ray is stopped for them
(``ray_session`` starts it again when a later test asks for it)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))  # line_env, helpers


@pytest.fixture
def no_session_ray():
    import ray

    ray.shutdown()
    yield
    ray.shutdown()
