"""Crafter backend: the contract env for RL (``make``) and, for planners, a single world with a text
state and a skill executor (``envs.crafter.world``, ``text_state``, ``skills``, ``tasks``).

The ``crafter`` package is imported only when an env is built.
"""
from __future__ import annotations

import importlib.util

from envs.contract import Env


def availability() -> tuple[bool, str]:
    if importlib.util.find_spec("crafter") is None:
        return False, "pip install crafter numba"
    if importlib.util.find_spec("numba") is None:
        return True, "crafter installed; pip install numba for ~15x faster world generation"
    return True, "crafter (embedded Minecraft-like world)"


CHEAP_TO_BUILD = True  # envs.check_config builds one env to check a run's values before it starts


def make(num_envs: int = 1, seed: int = 0, episodes_per_trial: int = 1, length: int = 10000, size: int = 64) -> Env:
    """Batched Crafter env (configs/env/crafter.yaml documents the keys)."""
    ok, reason = availability()
    if not ok:
        raise ImportError(f"the crafter backend needs the crafter package: {reason}")
    from envs.crafter import batched

    return batched.make(num_envs=num_envs, seed=seed, episodes_per_trial=episodes_per_trial, length=length,
                        size=size)
