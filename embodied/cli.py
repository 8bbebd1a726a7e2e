"""The ``embodied`` command: ``embodied COMMAND [key=value ...]``.

Each command lives in ``embodied/commands/<name>.py``. A command module defines either
``run(cfg) -> int`` (its config is ``configs/<name>.yaml`` composed by Hydra with the overrides) or
``main(argv) -> int`` (it parses its own arguments, e.g. ``replay EPISODE... --out DIR``).
"""
from __future__ import annotations

import importlib
import sys

from embodied.config import ConfigError, load

COMMANDS = {
    "envs": "list simulator backends and whether they are installed",
    "sim": "run a built-in policy (oracle, random) on a split of houses and print metrics",
    "pretrain": "pretrain the visual encoder on house frames (frozen features for the policy)",
    "train": "train an agent (PPO with partial updates on Ray rollout workers)",
    "eval": "evaluate a checkpoint or built-in policy on unseen houses",
    "replay": "re-simulate recorded episodes and write MP4 videos and an HTML gallery",
    "plan": "run the memory-informed planner loop",
    "memory": "inspect, search, export and import an experience database",
}


def usage() -> str:
    lines = ["usage: embodied COMMAND [key=value ...]", "", "commands:"]
    lines += [f"  {name:8s} {text}" for name, text in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"error: unknown command {name!r}; allowed: {sorted(COMMANDS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"embodied.commands.{name}")
    try:
        if hasattr(module, "main"):
            return int(module.main(rest) or 0)
        return int(module.run(load(name, rest)) or 0)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # a bad checkpoint given to any command: one line, not a traceback
        from embodied.learner.checkpoint import CheckpointError

        if not isinstance(e, CheckpointError):
            raise
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
