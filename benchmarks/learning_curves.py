"""How runs learnt, by windows of env steps: the tables behind the README's ``learning_curves.txt`` files.

    python benchmarks/learning_curves.py runs/A runs/B --every 500000 --out DIR

For each run and each window of ``--every`` env steps: the mean over the window's logged updates of training
success over all episodes, over the trials' first episodes and over their episodes 11+ (the two ends of the
in-context curve on training houses), and of the imitation loss and the policy entropy where logged. For a
transformer run also the Frobenius norms, by layer, of the output projections of the attention over the
running episode (``attn.wo``) and of the memory attention over the trial (``memory.wo``, episodic core only) in
the window's last checkpoint: the memory projection starts at zero, so its norm says how far the agent has
switched its memory on. Windows without a checkpoint (``trainer.keep_checkpoints`` prunes old ones) show none.

Writes DIR/learning_curves.txt and DIR/learning_curves.json and prints one JSON object as the last line.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import torch

from embodied.atomic import write_atomic
from embodied.evaluation.evaluate import json_safe
from embodied.learner import checkpoint
from embodied.learner.curve import read_metrics

COLUMNS = {"all": "episode/success", "first": "trial/first/success", "late": "trial/late/success",
           "imitation_loss": "train/imitation_loss", "entropy": "train/entropy"}
PROJECTIONS = {"attn_wo": "attn.wo.weight", "memory_wo": "memory.wo.weight"}


def window_means(data: dict[str, list[float]], every: int) -> list[dict]:
    """One row per window of ``every`` env steps that has logged updates: its start and the mean of each of
    ``COLUMNS`` the run logged (NaN entries left out; NaN where a window has none)."""
    if every <= 0:
        raise ValueError(f"--every must be a positive number of env steps, got {every}")
    windows: dict[int, list[int]] = {}
    for i, steps in enumerate(data["env_steps"]):
        windows.setdefault(int(steps // every), []).append(i)
    rows = []
    for k in sorted(windows):
        row = {"start": k * every}
        for name, column in COLUMNS.items():
            if column in data:
                values = [data[column][i] for i in windows[k] if not math.isnan(data[column][i])]
                row[name] = sum(values) / len(values) if values else math.nan
        rows.append(row)
    return rows


def projection_norms(path: Path) -> dict[str, list[float]]:
    """Per layer, the norms of each of ``PROJECTIONS`` the checkpoint's policy has."""
    weights = checkpoint.read(path)["policy"]
    norms = {}
    for name, suffix in PROJECTIONS.items():
        found = sorted(k for k in weights if k.endswith(suffix))
        if found:
            norms[name] = [float(torch.linalg.norm(weights[k].float())) for k in found]
    return norms


def add_norms(rows: list[dict], run: Path, every: int) -> None:
    """Each row gets the projection norms of the last checkpoint in its window, where there is one."""
    try:
        found = checkpoint.listing(run)
    except checkpoint.CheckpointError:
        return
    last_in: dict[int, Path] = {}
    for steps, path in found:
        last_in[steps // every] = path
    for row in rows:
        path = last_in.get(row["start"] // every)
        if path is not None:
            row.update(projection_norms(path))


def curves(run: str | Path, every: int) -> list[dict]:
    run = Path(run)
    data = read_metrics(run, ["success"], extra=(COLUMNS["imitation_loss"], COLUMNS["entropy"]))
    rows = window_means(data, every)
    add_norms(rows, run, every)
    return rows


def render(tables: dict[str, list[dict]], every: int) -> str:
    lines = [f"# training success per {every / 1e6:g}M env steps (mean over the logged updates); episode 1 "
             f"and episodes 11+ of the trials; the output projections' norms by layer in the window's last "
             f"checkpoint"]
    for run, rows in tables.items():
        lines.append(f"## {run}")
        for row in rows:
            cells = [f"{row['start'] / 1e6:5.2f}M"]
            cells += [f"{name} {row[name]:.3f}" for name in COLUMNS if name in row]
            cells += [f"{name.replace('_', '.')} {' / '.join(f'{v:.2f}' for v in row[name])}"
                      for name in PROJECTIONS if name in row]
            lines.append("  ".join(cells))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", help="run directories (runs/NAME)")
    parser.add_argument("--every", type=int, default=500_000, help="window length in env steps")
    parser.add_argument("--out", default=None, help="folder for learning_curves.txt/.json (default: print only)")
    args = parser.parse_args(argv)
    try:
        tables = {run: curves(run, args.every) for run in args.runs}
    except (FileNotFoundError, ValueError, checkpoint.CheckpointError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    text = render(tables, args.every)
    print(text, end="")
    result = json_safe({"every": args.every, "runs": tables})
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(out / "learning_curves.txt", text)
        write_atomic(out / "learning_curves.json", json.dumps(result, indent=1))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
