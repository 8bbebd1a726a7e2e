"""Episodes recorded from the real house simulator, shared by the replay tests of one session."""
from __future__ import annotations

import pytest
from replay_recording import record


@pytest.fixture(scope="session")
def oracle_episodes(tmp_path_factory):
    rec, _ = record(tmp_path_factory.mktemp("oracle_eps"), frames=True)
    return rec.written
