"""The simulators stand alone: nothing under envs/ imports the training platform (embodied), so a user of
envs (or of its gymnasium export) needs none of it."""
from __future__ import annotations

import ast
from pathlib import Path

import envs

ROOT = Path(envs.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_envs_never_import_embodied():
    files = sorted(ROOT.rglob("*.py"))
    assert len(files) > 20
    offenders = {str(f.relative_to(ROOT.parent)): sorted(n for n in _imports(f) if n.split(".")[0] == "embodied")
                 for f in files}
    assert {f: n for f, n in offenders.items() if n} == {}
