"""Main minus control over several checkpoints of each run: the checkpoint noise one pair's interval leaves out.

``benchmarks/incontext.py`` compares one checkpoint of each run on the same test trials, and its interval covers
the trials drawn, not the checkpoint: two continuations of the same weights, or neighbouring checkpoints of one
run, differ on unseen houses by about as much as the edges being measured. This evaluates ``--pairs`` checkpoints
of each run, spread evenly over the last ``--window`` env steps of each (the i-th of one beside the i-th of the
other, each pair on the same trials; ``--until`` takes the runs as they were at that step), and reports:

- per pair: the main agent's gain (episodes 11-20 over episode 1) and main minus control over episodes 11-20,
  paired per trial, with 95% intervals (as ``incontext.py`` computes them);
- ``main_minus_control_11_20_over_checkpoints``: the mean of the pairs' edges with a Student-t 95% interval over
  the pairs, so that the checkpoints' spread is in it; ``gain_11_20_over_1_over_checkpoints``: the same for the
  main agent's gain;
- each run's success per episode index, averaged over its checkpoints.

    python benchmarks/incontext_checkpoints.py main=runs/A no_inter_episode=runs/B --pairs 7 --window 750000 --trials 100

Writes metrics.json and table.md into ``--out`` and prints one JSON object as the last line of stdout.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np

from embodied.atomic import write_atomic
from embodied.evaluation import stats
from embodied.evaluation.evaluate import json_safe
from embodied.learner import checkpoint

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("incontext_benchmark", ROOT / "benchmarks" / "incontext.py")
incontext = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(incontext)
ARMS = ("main", incontext.CONTROL)


def spread(run: Path, pairs: int, window: int, until: int | None = None) -> list[tuple[int, Path]]:
    """``pairs`` distinct checkpoints of ``run`` nearest to evenly spaced points over its last ``window`` env
    steps (the newest always among them), oldest first; with ``until``, the run as it was at that step (its
    checkpoints after it left out)."""
    found = [f for f in checkpoint.listing(run) if until is None or f[0] <= until]
    if not found:
        raise incontext.MissingCheckpoints(f"{run} has no checkpoint at or before step {until}")
    last = found[-1][0]
    targets = [last - window * (pairs - 1 - i) / max(pairs - 1, 1) for i in range(pairs)]
    picked = [min(found, key=lambda f: abs(f[0] - t)) for t in targets]
    if len({p for _, p in picked}) < pairs:
        raise incontext.MissingCheckpoints(
            f"{run} has no {pairs} distinct checkpoints over its last {window} env steps ({len(found)} in all, "
            f"every {found[-1][0] - found[-2][0] if len(found) > 1 else '?'} steps): lower --pairs or widen --window")
    return picked


def over_checkpoints(values: list[float]) -> dict:
    """Mean of one figure over the checkpoint pairs, with a Student-t 95% interval over the pairs."""
    lo, hi = stats.t_interval(values)
    return {"mean": float(np.mean(values)), "lo": lo, "hi": hi, "n": len(values)}


def _brief(d: dict) -> dict:
    return {k: d[k] for k in ("mean", "lo", "hi", "n")}


def evaluate(args: argparse.Namespace) -> dict:
    runs = {name: Path(path) for name, _, path in (spec.rpartition("=") for spec in args.checkpoints)}
    if sorted(runs) != sorted(ARMS) or len(args.checkpoints) != len(ARMS):
        raise incontext.MissingCheckpoints(f"give the two runs as main=RUN_DIR {incontext.CONTROL}=RUN_DIR; got "
                                           f"{args.checkpoints}")
    for arm, run in runs.items():
        if not run.is_dir():
            raise incontext.MissingCheckpoints(f"{arm}={run} is not a run directory (this benchmark picks checkpoints "
                                               "from a run's checkpoints/ folder)")
    picked = {arm: spread(runs[arm], args.pairs, args.window, args.until) for arm in ARMS}
    base = incontext.describe(picked["main"][-1][1])
    env = {"split": args.split, "resolution": base["resolution"], "max_steps": args.max_steps or base["max_steps"],
           **base["task"]}
    started = time.time()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    pairs, matrices = [], {arm: [] for arm in ARMS}
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("episodes"),
                  TimeElapsedColumn()) as bar:
        for i in range(args.pairs):
            for arm in ARMS:
                steps, file = picked[arm][i]
                task = bar.add_task(f"{arm} at {steps / 1e6:.3f}M", total=args.trials * args.episodes)
                rows = incontext.run_trials(str(file), args, env, args.trials, args.episodes,
                                            lambda k, task=task: bar.advance(task, k))
                matrices[arm].append(incontext.success_matrix(rows, args.episodes))
            main, control = matrices["main"][-1], matrices[incontext.CONTROL][-1]
            gain = incontext.gain(main)
            pairs.append({"main_steps": picked["main"][i][0], "control_steps": picked[incontext.CONTROL][i][0],
                          "main_episode_1": gain["episode_1"]["mean"], "main_11_20": gain["episodes_11_20"]["mean"],
                          "control_episode_1": float(np.nanmean(control[:, 0])),
                          "control_11_20": float(np.nanmean(control[:, 10:20])),
                          "gain_11_20_over_1": _brief(gain),
                          "main_minus_control_11_20": _brief(incontext.main_minus_control(main, control))})
    return {"split": args.split, "trials": args.trials, "episodes": args.episodes, "env": env, "window": args.window,
            "until": args.until, "by_pair": pairs,
            "main_minus_control_11_20_over_checkpoints":
                over_checkpoints([p["main_minus_control_11_20"]["mean"] for p in pairs]),
            "gain_11_20_over_1_over_checkpoints": over_checkpoints([p["gain_11_20_over_1"]["mean"] for p in pairs]),
            "success_per_episode": {arm: np.nanmean(np.stack(m), axis=(0, 1)).round(4).tolist()
                                    for arm, m in matrices.items()},
            "seconds": round(time.time() - started, 1)}


def table(result: dict) -> str:
    lines = ["| main at | control at | main: episode 1 / 11-20 | control: episode 1 / 11-20 | gain | main minus control |",
             "|---|---|---|---|---|---|"]
    for p in result["by_pair"]:
        lines.append(f"| {p['main_steps']:,} | {p['control_steps']:,} | {p['main_episode_1']:.2f} / "
                     f"{p['main_11_20']:.3f} | {p['control_episode_1']:.2f} / {p['control_11_20']:.3f} | "
                     f"{incontext._ci(p['gain_11_20_over_1'])} | {incontext._ci(p['main_minus_control_11_20'])} |")
    over, gain = result["main_minus_control_11_20_over_checkpoints"], result["gain_11_20_over_1_over_checkpoints"]
    lines += ["", f"Over the {over['n']} pairs (Student-t over pairs): main minus control {incontext._ci(over)}, "
                  f"gain {incontext._ci(gain)}."]
    return "\n".join(lines) + "\n"


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoints", nargs="+", help=f"main=RUN_DIR {incontext.CONTROL}=RUN_DIR")
    p.add_argument("--pairs", type=int, default=3, help="checkpoints per run")
    p.add_argument("--window", type=int, default=500_000, help="env steps at the end of each run they spread over")
    p.add_argument("--until", type=int, default=None,
                   help="env steps: take each run as it was then (its later checkpoints left out)")
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--trials", type=int, default=20, help="trials (houses) per checkpoint")
    p.add_argument("--episodes", type=int, default=20, help="episodes per trial")
    p.add_argument("--max-steps", type=int, default=None, help="episode cap; default: the training run's")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--greedy", action="store_true", help="arg-max actions instead of sampling")
    p.add_argument("--cluster", default="local", choices=("local", "inprocess"))
    p.add_argument("--workers", type=int, default=None, help="Ray CPUs (default: all cores)")
    p.add_argument("--chunk-size", type=int, default=4, help="trials per Ray task")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "incontext_checkpoints"),
                   help="folder for metrics.json and table.md ('': none)")
    args = p.parse_args(argv)
    for key in ("pairs", "window", "trials", "episodes", "chunk_size"):
        if getattr(args, key) <= 0:
            p.error(f"--{key.replace('_', '-')}={getattr(args, key)} is invalid; expected a positive integer")
    if args.until is not None and args.until <= 0:
        p.error(f"--until={args.until} is invalid; expected a positive number of env steps")
    if args.episodes < 20:
        p.error(f"--episodes={args.episodes} is invalid; episodes 11-20 need at least 20 episodes per trial")
    return args


def save(result: dict, out: str) -> dict:
    """Write metrics.json and table.md into ``out`` (unless empty); the JSON line: the result without its curves."""
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        write_atomic(Path(out) / "metrics.json", json.dumps(json_safe(result), indent=1))
        write_atomic(Path(out) / "table.md", table(result))
    return json_safe({k: v for k, v in result.items() if k not in ("success_per_episode", "env")})


def main(argv: list[str]) -> int:
    args = parse(argv)
    return incontext.run(evaluate, args, lambda result: save(result, args.out))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
