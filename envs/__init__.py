"""Simulator backends behind one contract (envs/contract.py).

Backends register here by module path so that importing ``envs`` never imports a simulator; each
backend module exposes ``make(**cfg) -> Env``, ``availability() -> (bool, reason)`` and optionally
``AGENTS`` (scripted reference agents for evaluation, by name).
"""
from __future__ import annotations

from envs.backends import BACKENDS, availability, check_config, make, scripted_agents, start_problem, takes
from envs.contract import Env

__all__ = ["BACKENDS", "Env", "availability", "check_config", "make", "scripted_agents", "start_problem", "takes"]


def _register_gymnasium_ids() -> None:
    """``embodied/House-v0`` etc. for gymnasium users (envs/gymnasium_export.py); imports no simulator."""
    from envs import gymnasium_export

    gymnasium_export.register()


_register_gymnasium_ids()
