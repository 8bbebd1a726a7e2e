"""Reading the docker/ files (no Docker engine runs here: images are linted and checked, not built)."""
from __future__ import annotations

import pathlib
import re

DOCKER = pathlib.Path(__file__).resolve().parents[2] / "docker"
IMAGES = ("cpu", "cuda", "habitat", "minedojo")


def instructions(path: pathlib.Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per Dockerfile instruction, continuation lines joined, comments dropped."""
    out, buf = [], ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or (not stripped and not buf):
            continue
        buf += stripped[:-1] + " " if stripped.endswith("\\") else stripped
        if not stripped.endswith("\\"):
            word, _, rest = buf.partition(" ")
            out.append((word.upper(), rest.strip()))
            buf = ""
    return out


def arg_defaults(path: pathlib.Path) -> dict[str, str]:
    return dict(re.match(r"(\w+)=(\S+)", rest).groups() for word, rest in instructions(path)
                if word == "ARG" and "=" in rest)

DOCKERFILES = {name: DOCKER / f"{name}.Dockerfile" for name in IMAGES}
