"""Navigation metrics and reward against hand computations and a direct reference over random episodes."""
from __future__ import annotations

import math

import numpy as np
import pytest

from envs.habitat.metrics import NavEpisode, soft_spl, spl


def test_spl_and_soft_spl_by_hand():
    assert spl(True, 4.0, 5.0) == pytest.approx(0.8)
    assert spl(True, 4.0, 3.0) == 1.0  # a path shorter than the geodesic (sliding) is capped at 1
    assert spl(False, 4.0, 4.0) == 0.0
    assert soft_spl(1.0, 4.0, 8.0) == pytest.approx(0.75 * 0.5)
    assert soft_spl(6.0, 4.0, 8.0) == 0.0  # ended farther than it started


def test_episode_reward_telescopes_and_metrics_match_a_reference():
    rng = np.random.default_rng()
    for _ in range(50):
        steps = int(rng.integers(1, 40))
        start = rng.normal(size=3)
        distances = rng.uniform(0.0, 8.0, steps + 1)
        positions = start + np.cumsum(rng.normal(scale=0.25, size=(steps, 3)), axis=0)
        ep = NavEpisode(start, distances[0], success_distance=2.0, success_reward=2.0, slack_reward=-0.001)
        total = sum(ep.move(p, d) for p, d in zip(positions, distances[1:], strict=True))
        assert total == pytest.approx(-0.001 * steps + distances[0] - distances[-1])
        path = np.linalg.norm(np.diff(np.vstack([start, positions]), axis=0), axis=1).sum()
        visible = bool(rng.integers(2))
        success = ep.succeeded(True, visible)
        assert success == (visible and distances[-1] <= 2.0)
        m = ep.metrics(success)
        ref_spl = success * distances[0] / max(path, distances[0])
        ref_soft = max(0.0, 1 - distances[-1] / distances[0]) * distances[0] / max(path, distances[0])
        assert m["spl"] == pytest.approx(ref_spl)
        assert m["soft_spl"] == pytest.approx(ref_soft)
        assert m["distance_to_goal"] == pytest.approx(distances[-1])
        assert m["episode_length"] == steps and m["success"] == float(success)


def test_success_needs_stop_and_visibility():
    ep = NavEpisode(np.zeros(3), 1.0, success_distance=2.0, success_reward=2.0, slack_reward=-0.001)
    assert not ep.succeeded(False, True)
    assert not ep.succeeded(True, False)
    assert ep.succeeded(True, True)


def test_unreachable_readings_do_not_explode_the_reward():
    ep = NavEpisode(np.zeros(3), 3.0, success_distance=2.0, success_reward=2.0, slack_reward=-0.001)
    assert ep.move(np.array([0.25, 0, 0]), math.inf) == pytest.approx(-0.001)
    assert ep.distance == 3.0
    with pytest.raises(ValueError, match="unreachable"):
        NavEpisode(np.zeros(3), math.inf, success_distance=2.0, success_reward=2.0, slack_reward=0.0)
