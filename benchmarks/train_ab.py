"""Env steps/s of ``embodied train`` under two or more sets of overrides, measured in alternating rounds.

Single training windows on 2 cores vary by 10-30% (the policy's behaviour changes the work as it learns, and
the machine's load changes), so a setting's effect on speed is measured back to back: every round runs each
variant once, in the same order, as ``benchmarks/peer_throughput.py`` measures ``ours`` (a subprocess of the CLI,
env steps/s over whole rollouts from ``metrics.csv`` after a warm-up).

    python benchmarks/train_ab.py                   # the house default against it with 8 minibatches: ~5 min
    python benchmarks/train_ab.py base= ctx=trainer.grad_context=none [--rounds 5 --seconds 60 --warmup 15]
    git worktree add /tmp/before REV && python benchmarks/train_ab.py before= after= --code before=/tmp/before

Each variant is ``NAME=OVERRIDES`` with the overrides comma-separated (empty: the default config); without any,
``mb8=trainer.minibatches=8 default=`` (benchmarks/reports/training_speed.md, "4 minibatches for the house
default"). The last line of stdout is one JSON object: ``{NAME}_steps_per_s`` (one per round), ``{NAME}_mean``,
and for every variant after the first ``{NAME}_over_{FIRST}`` (ratio of the means) and ``{NAME}_over_{FIRST}_rounds``
(per round).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.peer_throughput import measure_ours  # noqa: E402


def _named(text: str, expected: str, empty: bool) -> tuple[str, str]:
    """``NAME=VALUE`` split at its first ``=``; NAME an identifier, VALUE non-empty unless ``empty``."""
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier() or not (value or empty):
        raise argparse.ArgumentTypeError(f"{text!r}: expected {expected}")
    return name, value


def variant(text: str) -> tuple[str, list[str]]:
    name, overrides = _named(text, "NAME=OVERRIDES (comma-separated key=value, may be empty)", empty=True)
    return name, [o for o in overrides.split(",") if o]


def source_tree(text: str) -> tuple[str, Path]:
    """``NAME=DIR``, the directory taken whole (commas and ``=`` included)."""
    name, directory = _named(text, "NAME=DIR", empty=False)
    return name, Path(directory).resolve()


def main(argv: list[str]) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("variants", type=variant, nargs="*", default=[("mb8", ["trainer.minibatches=8"]), ("default", [])],
                   help="NAME=OVERRIDES, e.g. base= mb4=trainer.minibatches=4")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--seconds", type=float, default=45.0, help="measured seconds per variant and round")
    p.add_argument("--warmup", type=float, default=15.0, help="seconds after the first update left out")
    p.add_argument("--code", type=source_tree, action="append", default=[],
                   help="NAME=DIR: variant NAME runs the source tree at DIR (e.g. a git worktree of an older commit)")
    a = p.parse_args(argv)
    names = [n for n, _ in a.variants]
    if len(set(names)) != len(names) or len(names) < 2:
        raise SystemExit(f"give two or more variants with different names: {names}")
    code = dict(a.code)
    for n, d in code.items():
        if n not in names or not (d / "embodied" / "__init__.py").is_file():
            raise SystemExit(f"--code {n}={d}: expected a variant name and a source tree with embodied/ in it")
    out: dict = {"rounds": a.rounds, "seconds": a.seconds, "warmup": a.warmup,
                 "overrides": {n: o for n, o in a.variants}, "code": {n: str(d) for n, d in code.items()}}
    with tempfile.TemporaryDirectory(prefix="train_ab_") as work:
        for r in range(a.rounds):
            for name, overrides in a.variants:
                res = measure_ours(overrides, Path(work), f"{name}_{r}", a.seconds, a.warmup, code=code.get(name))
                out.setdefault(f"{name}_steps_per_s", []).append(round(res["steps_per_s"], 1))
                print(f"round {r} {name}: {res['steps_per_s']:.1f} env steps/s", file=sys.stderr)
    first = names[0]
    for name in names:
        runs = out[f"{name}_steps_per_s"]
        out[f"{name}_mean"] = round(sum(runs) / len(runs), 1)
        if name != first:
            out[f"{name}_over_{first}"] = round(out[f"{name}_mean"] / out[f"{first}_mean"], 3)
            out[f"{name}_over_{first}_rounds"] = [round(x / y, 3) for x, y in zip(runs, out[f"{first}_steps_per_s"])]
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
