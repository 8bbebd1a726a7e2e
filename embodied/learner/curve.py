"""The learning curve of a run (its episode metrics against wall time and env steps) as PNG + CSV.

    python -m embodied.learner.curve RUN_DIR OUT.png [--title TEXT] [--metrics return success ...]

Reads ``RUN_DIR/metrics.csv`` (written by the trainer at every update) and writes ``OUT.png`` and
``OUT.csv`` (the columns plotted), so a README can show how a run learnt. By default it plots the env's
rates in [0, 1] (success, SPL, soft SPL, return over optimal) when it has any, else the episode return; where
the run logged them, also each one over the trials' first episodes and over their episodes 11+ (the two ends
of the in-context curve, dashed and dotted).
"""
from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

from embodied.atomic import open_atomic, write_atomic

BASE = ("env_steps", "perf/wall_s", "perf/fps")
RATES = ("success", "spl", "soft_spl", "return_over_optimal")


def read_metrics(run_dir: str | Path, metrics: list[str] | None = None,
                 extra: tuple[str, ...] = ()) -> dict[str, list[float]]:
    """The base columns, ``episode/<metric>`` for each of ``metrics`` (default: see the module docstring), its
    ``trial/first/<metric>`` / ``trial/late/<metric>`` and the ``extra`` columns, the last two where the run
    has them."""
    path = Path(run_dir) / "metrics.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: not a training run directory?")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path} has no rows yet")
    if metrics is None:
        metrics = [m for m in RATES if f"episode/{m}" in rows[0]] or ["return"]
    columns = [*BASE, *(f"episode/{m}" for m in metrics)]
    missing = [c for c in columns if c not in rows[0]]
    if missing:
        raise ValueError(f"{path} lacks columns {missing}")
    columns += [c for m in metrics for c in (f"trial/first/{m}", f"trial/late/{m}") if c in rows[0]]
    columns += [c for c in extra if c in rows[0]]
    return {c: [float(r[c]) if r[c] not in ("", None) else math.nan for r in rows] for c in columns}


def training_time(wall_s: list[float]) -> list[float]:
    """Seconds of training so far at each row: a resumed run's clock starts again at 0, so each restart
    continues from where the previous process had got to."""
    out, offset, last = [], 0.0, 0.0
    for s in wall_s:
        if s < last:
            offset += last
        out.append(offset + s)
        last = s
    return out


def write_curve(run_dir: str | Path, out_png: str | Path, title: str | None = None,
                metrics: list[str] | None = None) -> Path:
    """Plot the run's curve to ``out_png`` (and the data to the same name with ``.csv``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = read_metrics(run_dir, metrics)
    plotted = [c for c in data if c.startswith(("episode/", "trial/"))]
    style = {"episode": ("-", ""), "first": ("--", ", episode 1"), "late": (":", ", episodes 11+")}
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    minutes = [s / 60 for s in training_time(data["perf/wall_s"])]
    fig, (ax_t, ax_s) = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, x, label in ((ax_t, minutes, "wall time (min)"), (ax_s, data["env_steps"], "env steps")):
        for c in plotted:
            part, metric = c.split("/")[-2:]
            line, suffix = style[part]
            ax.plot(x, data[c], line, label=metric.replace("_", " ") + suffix)
        ax.set_xlabel(label)
        if all(c.rsplit("/", 1)[1] in RATES for c in plotted):
            ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    ax_t.set_ylabel("training episodes (sliding window)")
    ax_t.legend(loc="upper left")
    fig.suptitle(title or f"embodied train: {Path(run_dir).name}")
    fig.tight_layout()
    try:
        write_atomic(out_png, lambda tmp: fig.savefig(tmp, dpi=110))
    finally:
        plt.close(fig)
    with open_atomic(out_png.with_suffix(".csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(data))
        w.writerows(zip(*data.values()))
    return out_png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Plot a training run's learning curve.")
    parser.add_argument("run_dir")
    parser.add_argument("out_png")
    parser.add_argument("--title", default=None)
    parser.add_argument("--metrics", nargs="+", default=None, help="episode metrics to plot (default: the rates)")
    args = parser.parse_args(argv)
    print(write_curve(args.run_dir, args.out_png, args.title, args.metrics))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
