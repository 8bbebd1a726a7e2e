"""Two agents evaluated on the same trials: each one's mean success and SPL, and their paired difference.

``embodied eval`` with the same ``split``, ``trials``, ``episodes`` and ``seed`` gives both agents the same houses,
goals and starts, so the per-trial difference in success is a paired sample: its Student-t interval over trials is
tighter than the two separate intervals. Used to check that a faster setting keeps what the default learnt
(benchmarks/reports/training_speed.md, "Learning alike": ``trainer.minibatches``).

    python benchmarks/compare_evals.py runs/A/eval runs/B/eval [--out FILE.json]

Prints one JSON object as the last line: ``a`` and ``b`` (the agents' names), ``trials``, ``a_success``, ``a_spl``,
``b_success`` and ``b_spl`` (mean over trials of the trial's mean over its episodes, with interval), and
``b_minus_a_success`` (paired, with interval).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from embodied.atomic import write_atomic
from embodied.evaluation.stats import t_interval


def per_trial(eval_dir: Path) -> tuple[str, dict[int, tuple[float, float]]]:
    """The agent's name and, per trial, its mean success and SPL over the trial's episodes."""
    path = eval_dir / "episodes.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (give the out= folder of an `embodied eval` run)")
    agent = json.loads((eval_dir / "metrics.json").read_text())["agent"]
    rows: dict[int, list[tuple[float, float]]] = {}
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if row["policy"] == agent:  # the references (oracle, random) beside it are left out
            rows.setdefault(int(row["trial"]), []).append((float(row["success"]), float(row["spl"])))
    if not rows:
        raise ValueError(f"{path}: no episodes of the agent {agent!r}")
    return agent, {t: tuple(np.mean(v, axis=0)) for t, v in rows.items()}


def _summary(values: np.ndarray) -> dict[str, float]:
    lo, hi = t_interval(values)
    return {"mean": round(float(values.mean()), 4), "lo": round(lo, 4), "hi": round(hi, 4)}


def compare(a: Path, b: Path) -> dict:
    (name_a, rows_a), (name_b, rows_b) = per_trial(a), per_trial(b)
    if sorted(rows_a) != sorted(rows_b):
        raise ValueError(f"{a} and {b} cover different trials ({len(rows_a)} and {len(rows_b)}): evaluate both with "
                         "the same split, trials, episodes and seed")
    trials = sorted(rows_a)
    a_runs, b_runs = (np.array([rows[t] for t in trials]) for rows in (rows_a, rows_b))  # (trials, [success, spl])
    out = {"a": name_a, "b": name_b, "trials": len(trials)}
    for key, runs in (("a", a_runs), ("b", b_runs)):
        out[f"{key}_success"], out[f"{key}_spl"] = _summary(runs[:, 0]), _summary(runs[:, 1])
    out["b_minus_a_success"] = _summary(b_runs[:, 0] - a_runs[:, 0])
    return out


def main(argv: list[str]) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a", type=Path, help="out= folder of the first `embodied eval` run")
    p.add_argument("b", type=Path, help="out= folder of the second, on the same trials")
    p.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = p.parse_args(argv)
    result = compare(args.a, args.b)
    if args.out is not None:
        write_atomic(args.out, json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
