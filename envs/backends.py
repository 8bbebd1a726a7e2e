"""The registry of simulator backends: each registers here by module path, so that importing it never
imports a simulator. ``envs`` re-exports every name; modules inside envs import them from here.
"""
from __future__ import annotations

import importlib

from envs.contract import Env

BACKENDS = {
    "house": "envs.house",
    "crafter": "envs.crafter",
    "habitat": "envs.habitat",
    "minedojo": "envs.minedojo",
    "gym": "envs.gym",
    "darkroom": "envs.darkroom",
}


def _module(name: str):
    if name not in BACKENDS:
        raise ValueError(f"env.name={name!r} is not a backend; allowed: {sorted(BACKENDS)}")
    return importlib.import_module(BACKENDS[name])


def make(name: str, **cfg) -> Env:
    """Build a batched env of backend ``name`` (raises with an install hint when it is missing)."""
    return _module(name).make(**cfg)


def takes(name: str, key: str) -> bool:
    """Whether backend ``name``'s ``make`` has the keyword ``key`` (e.g. ``split``: not every world has splits)."""
    import inspect

    return key in inspect.signature(_module(name).make).parameters


def check_config(name: str, cfg: dict) -> None:
    """Raise the backend's own error on values its ``make`` rejects, before a run starts anything: a backend
    whose envs are cheap to build (its module's ``CHEAP_TO_BUILD``: the embedded simulators, gymnasium) builds
    one and closes it; the others (a simulator process per env) are checked by their ``start_problem``."""
    module = _module(name)
    if getattr(module, "CHEAP_TO_BUILD", False):
        module.make(**{**{k: v for k, v in cfg.items() if k != "name"}, "num_envs": 1}).close()


def scripted_agents(name: str) -> dict:
    """The backend's scripted reference agents by name (its module's ``AGENTS``; none for most backends)."""
    return dict(getattr(_module(name), "AGENTS", {}))


def start_problem(name: str, cfg: dict) -> str | None:
    """What stops backend ``name`` from starting with ``cfg`` on this machine (a missing simulator package,
    data), as one line with the fix; None when nothing does or the backend has no such check."""
    check = getattr(_module(name), "start_problem", None)
    return check(**cfg) if check else None


def availability() -> dict[str, tuple[bool, str]]:
    """For each backend: whether it can run here and, if not, what to install."""
    out = {}
    for name in BACKENDS:
        try:
            out[name] = _module(name).availability()
        except ImportError as e:  # the backend package itself is absent
            out[name] = (False, f"backend module missing: {e}")
    return out
