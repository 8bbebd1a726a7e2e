"""Confidence intervals: published values and simulated coverage close to the nominal 95%."""
from __future__ import annotations

import math

import numpy as np
import pytest

from embodied.evaluation import stats


def test_wilson_matches_published_values():
    # Newcombe (1998), Table I: 0/10 -> [0, 0.2775]; 81/263 -> [0.2553, 0.3662]; 15/148 -> [0.0624, 0.1605].
    for k, n, lo, hi in ((0, 10, 0.0, 0.2775), (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605)):
        got = stats.wilson(k, n)
        assert got[0] == pytest.approx(lo, abs=1e-4) and got[1] == pytest.approx(hi, abs=1e-4)


@pytest.mark.parametrize("p,n", [(0.3, 40), (0.9, 60), (0.5, 15)])
def test_wilson_coverage(p, n):
    rng = np.random.default_rng(int(p * 1000) + n)
    k = rng.binomial(n, p, 4000)
    covered = np.mean([lo <= p <= hi for lo, hi in (stats.wilson(x, n) for x in k)])
    assert 0.92 <= covered <= 0.985


def test_t_interval_coverage_and_width():
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(3000):
        x = rng.normal(2.0, 3.0, 6)
        lo, hi = stats.t_interval(x)
        hits += lo <= 2.0 <= hi
    assert 0.935 <= hits / 3000 <= 0.965  # the normal interval (z=1.96) would cover only ~0.90 at n=6


def test_curve_groups_by_episode_index_and_drops_missing():
    rows = [{"episode_index": e, "success": float(t % 2 == 0 or e == 1), "spl": 0.5 if e else math.nan}
            for t in range(10) for e in range(3)]
    c = stats.curve(rows, ["success", "spl"], 3)
    assert [s["mean"] for s in c["success"]] == [0.5, 1.0, 0.5]
    assert c["spl"][0]["n"] == 0 and math.isnan(c["spl"][0]["mean"])
    assert c["spl"][2] == {"mean": 0.5, "lo": 0.5, "hi": 0.5, "n": 10}
    assert c["success"][1]["lo"] < 1.0 == c["success"][1]["hi"]
