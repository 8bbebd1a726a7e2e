"""``embodied envs``: which simulator backends run here, and what to install for the others."""
from __future__ import annotations

import envs


def main(argv: list[str]) -> int:
    for name, (ok, reason) in envs.availability().items():
        print(f"{name:10s} {'installed' if ok else 'not installed'}  {reason}")
    return 0
