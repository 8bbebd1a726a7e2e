"""Means with 95% confidence intervals, per episode index within the trial (the in-context curve).

Success is a proportion, so it gets the Wilson score interval (sensible at 0 and 1, where the normal
interval collapses to a point); the other metrics (SPL, soft-SPL, episode length, ...) get the
Student-t interval of the mean. Trials are the independent samples.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from scipy import stats as _st

BINARY = ("success",)
# Natural ranges: t-intervals are clipped to them (a mean SPL cannot exceed 1, a length cannot be negative).
BOUNDS = {"spl": (0.0, 1.0), "soft_spl": (0.0, 1.0), "episode_length": (0.0, math.inf),
          "distance_to_goal": (0.0, math.inf)}


def wilson(successes: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``successes / n``."""
    if n <= 0:
        return (math.nan, math.nan)
    z = float(_st.norm.ppf(0.5 + level / 2))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if successes <= 0 else max(0.0, centre - half)
    hi = 1.0 if successes >= n else min(1.0, centre + half)
    return (lo, hi)


def t_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """Student-t interval of the mean (a point when fewer than two values or zero spread)."""
    x = np.asarray(values, np.float64)
    n = len(x)
    if n == 0:
        return (math.nan, math.nan)
    mean = float(x.mean())
    if n < 2:
        return (mean, mean)
    half = float(_st.t.ppf(0.5 + level / 2, n - 1)) * float(x.std(ddof=1)) / math.sqrt(n)
    return (mean - half, mean + half)


def summarize(name: str, values: Iterable[float], level: float = 0.95) -> dict[str, float]:
    """``{"mean", "lo", "hi", "n"}`` for one metric; NaNs (missing episodes) are dropped."""
    x = np.asarray([v for v in values if v is not None and not math.isnan(v)], np.float64)
    if len(x) == 0:
        return {"mean": math.nan, "lo": math.nan, "hi": math.nan, "n": 0}
    lo, hi = wilson(float(x.sum()), len(x), level) if name in BINARY else t_interval(x, level)
    low, high = BOUNDS.get(name, (-math.inf, math.inf))
    lo, hi = max(lo, low), min(hi, high)
    return {"mean": float(x.mean()), "lo": lo, "hi": hi, "n": int(len(x))}


def curve(rows: Sequence[dict], metrics: Sequence[str], episodes: int, level: float = 0.95) -> dict:
    """Per episode index ``0..episodes-1``: ``{metric: summarize(...)}`` over the rows of that index.

    ``rows`` are per-episode records with ``episode_index`` and the metric values.
    """
    out = {}
    for m in metrics:
        out[m] = [summarize(m, (r[m] for r in rows if r["episode_index"] == e), level) for e in range(episodes)]
    return out
