"""``embodied memory``: look into and move experience databases.

    embodied memory inspect DB [--last N]
    embodied memory search DB "task: collect_iron ..." [-k 5] [--task T] [--success | --failure]
    embodied memory export DB OUT.jsonl [--task T]
    embodied memory import DB IN.jsonl [--embedder minilm|hash]
"""
from __future__ import annotations

import argparse
import json
import sys

from embodied.planner.embedders import EMBEDDERS, embedder_for_name, make_embedder
from embodied.planner.memory import ExperienceMemory, MemoryDBError


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="embodied memory", description="inspect, search, export and import an "
                                                                     "experience database")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("inspect", help="counts per task and the latest experiences")
    p.add_argument("db")
    p.add_argument("--last", type=int, default=3)
    p = sub.add_parser("search", help="top-k experiences most similar to a text")
    p.add_argument("db")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--task")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--success", dest="success", action="store_const", const=True)
    g.add_argument("--failure", dest="success", action="store_const", const=False)
    p = sub.add_parser("export", help="write experiences as JSON lines (no embeddings)")
    p.add_argument("db")
    p.add_argument("out")
    p.add_argument("--task")
    p = sub.add_parser("import", help="add the experiences of a JSONL export (embedded anew)")
    p.add_argument("db")
    p.add_argument("src")
    p.add_argument("--embedder", choices=EMBEDDERS, default="minilm",
                   help="for a new database; an existing one keeps the embedder it records")
    return ap


def _open(path: str, embed: bool, default: str | None = None) -> ExperienceMemory:
    """Open with the embedder the database records (or ``default`` for a new one); reading needs none."""
    if not embed:
        return ExperienceMemory(path, None)
    try:
        with ExperienceMemory(path, None) as probe:
            name = probe.recorded_embedder()
    except MemoryDBError:
        name = None
    return ExperienceMemory(path, embedder_for_name(name) if name else make_embedder(default or "minilm"))


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.cmd == "inspect":
            with _open(args.db, embed=False) as mem:
                stats = mem.stats()
                print(json.dumps(stats, indent=2))
                recent = list(mem.iter())[-args.last:] if args.last > 0 else []
                for e in recent:
                    print(f"\n#{e.id} {e.task} {'SUCCESS' if e.success else 'FAILURE'} world {e.seed}: {e.outcome}")
                    print("  " + e.state.replace("\n", "\n  "))
        elif args.cmd == "search":
            with _open(args.db, embed=True) as mem:
                for score, e in mem.search(args.query, args.k, task=args.task, success=args.success):
                    print(f"{score:.3f} #{e.id} {e.task} {'SUCCESS' if e.success else 'FAILURE'}: {e.outcome}")
        elif args.cmd == "export":
            with _open(args.db, embed=False) as mem:
                n = mem.export_jsonl(args.out, task=args.task)
            print(f"exported {n} experiences to {args.out}")
        elif args.cmd == "import":
            with _open(args.db, embed=True, default=args.embedder) as mem:
                added, skipped = mem.import_jsonl(args.src)
            print(f"imported {added} experiences into {args.db} ({skipped} already there)")
    except (MemoryDBError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0
