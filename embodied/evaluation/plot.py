"""The in-context learning curve as a PNG: metric vs episode index within the trial, one line per policy.

The evaluated agent is drawn solid with its 95% band; reference policies (oracle, random) as dashed
lines (their intervals are in the report's tables), so the reader sees where the agent sits between
"knows the house" and "knows nothing".
"""
from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from embodied.atomic import write_atomic  # noqa: E402

PANELS = (("success", "success rate"), ("spl", "SPL"), ("soft_spl", "soft-SPL"),
          ("episode_length", "episode length (steps)"))  # the house's; other envs: their first four metrics
RATES = ("success", "spl", "soft_spl", "return_over_optimal")  # drawn on [0, 1]
_REF_STYLE = {"oracle": ("tab:green", "--"), "random": ("tab:gray", ":")}


def plot_curves(curves: dict[str, dict], agent: str, path: str | os.PathLike, title: str = "",
                fewshot: int = 0) -> Path:
    """Write the PNG. ``curves[policy][metric]`` is the list of per-episode-index summaries
    (``mean``/``lo``/``hi``) from :func:`embodied.evaluation.stats.curve`."""
    path = Path(path)
    have = sorted({m for c in curves.values() for m in c})
    first = [m for m in ("return_over_optimal", "success", "return", "achievements", "length") if m in have]
    panels = PANELS if "spl" in have else [(m, m.replace("_", " ")) for m in
                                           first + [m for m in have if m not in first]][:4]
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), dpi=100)
    for ax, (metric, label) in zip(axes.flat, panels):
        for name, curve in curves.items():
            if metric not in curve:
                continue
            pts = curve[metric]
            x = np.arange(1, len(pts) + 1)
            mean = np.array([p["mean"] for p in pts], float)
            lo = np.array([p["lo"] for p in pts], float)
            hi = np.array([p["hi"] for p in pts], float)
            if name == agent:
                colour, style, width = "tab:blue", "-", 2.0
            else:
                colour, style = _REF_STYLE.get(name, ("tab:orange", "-."))
                width = 1.4
            ax.plot(x, mean, style, color=colour, lw=width, marker="o", ms=3, label=name)
            if name == agent:  # references are lines only: their bands would hide the agent's
                ax.fill_between(x, lo, hi, color=colour, alpha=0.18, lw=0)
        if fewshot:
            ax.axvspan(0.5, fewshot + 0.5, color="tab:green", alpha=0.06, lw=0)
        ax.set_xlabel("episode index within trial")
        ax.set_ylabel(label)
        if metric in RATES:
            ax.set_ylim(-0.03, 1.03)
        else:
            ax.set_ylim(bottom=0)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes.flat[0].legend(loc="best", fontsize=9)
    fig.suptitle(title or f"in-context curve: {agent} (95% CI)")
    fig.tight_layout()
    try:
        return write_atomic(path, lambda tmp: fig.savefig(tmp, format="png"))
    finally:
        plt.close(fig)
