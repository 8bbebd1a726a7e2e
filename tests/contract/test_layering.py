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


def _modules() -> dict[str, Path]:
    """Every module of embodied/ and envs/ by dotted name (a package by its __init__.py)."""
    out = {}
    for package in (ROOT, ROOT.parent / "embodied"):
        for path in package.rglob("*.py"):
            parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ``modules`` that ``name`` imports anywhere in its text, in a function too: ``from a.b import
    c`` counts as a.b.c where that is a module, else as a.b; relative imports are resolved."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            for a in node.names:
                out.add(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base)
    return {m for m in out if m in modules and m != name}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
    return circles


def test_circle_finder_finds_a_circle():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles_in_embodied_and_envs():
    """No module of embodied/ or envs/ reaches itself through imports. A lazy import inside a function counts:
    it hides a circle from Python's import machinery, it does not remove it (layout.py <-> procgen.py was one)."""
    modules = _modules()
    assert "envs.house.layout" in modules and "embodied.planner.loop" in modules
    graph = {name: _imported_modules(name, path, modules) for name, path in modules.items()}
    assert "envs.house.grid" in graph["envs.house.procgen"]
    assert _circles(graph) == []


def test_the_planner_talks_to_worlds_only_through_the_protocol():
    """embodied/planner imports no simulator: only envs.skills (the skill language and the SkillWorld protocol),
    so Crafter and MineDojo (and any world that implements the protocol) are interchangeable."""
    planner = ROOT.parent / "embodied" / "planner"
    files = sorted(planner.rglob("*.py"))
    assert len(files) > 10
    used = {str(f.relative_to(ROOT.parent)): sorted(n for n in _imports(f) if n.split(".")[0] == "envs")
            for f in files}
    assert {n for names in used.values() for n in names} == {"envs.skills"}
