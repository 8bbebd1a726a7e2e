"""The issue's bar on the test split: the oracle succeeds at every episode index, the random policy does not."""
from __future__ import annotations

import json

import pytest

from embodied.cli import main as cli


@pytest.mark.slow
def test_oracle_and_random_on_unseen_houses(ray_session, tmp_path):
    assert cli(["eval", "policy=oracle", "split=test", "trials=200", "episodes=4", "references=[random]",
                "record=none", "chunk_size=25", f"out={tmp_path}"]) == 0
    policies = json.loads((tmp_path / "metrics.json").read_text())["policies"]
    oracle = [p["mean"] for p in policies["oracle"]["curve"]["success"]]
    random = [p["mean"] for p in policies["random"]["curve"]["success"]]
    assert [p["n"] for p in policies["oracle"]["curve"]["success"]] == [200] * 4
    assert min(oracle) >= 0.99, oracle
    assert max(random) <= 0.05, random
