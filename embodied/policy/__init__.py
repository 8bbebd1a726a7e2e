"""Policies behind one factory, ``build(cfg_policy, obs_space, act_space)``.

``REGISTRY`` maps ``cfg_policy.name`` to ``"module:Class"``; the class is imported on demand and
constructed as ``Class(cfg_policy, obs_space, act_space)`` (a ``Policy``, see ``interface.py``).
To add a policy, write such a class and add one entry here.
"""
from __future__ import annotations

import importlib

import gymnasium
from omegaconf import DictConfig

from embodied.config import ConfigError
from embodied.policy.interface import Policy

REGISTRY: dict[str, str] = {
    "transformer": "embodied.policy.transformer:SinkKVTransformer",
    "gru": "embodied.policy.gru:GRUPolicy",
}


def build(cfg_policy: DictConfig | dict, obs_space: dict[str, gymnasium.Space],
          act_space: dict[str, gymnasium.Space]) -> Policy:
    """The policy named by ``cfg_policy.name``."""
    name = cfg_policy.get("name") if hasattr(cfg_policy, "get") else None
    if name not in REGISTRY:
        raise ConfigError(f"policy.name={name!r} is not allowed; allowed values: {sorted(REGISTRY)}")
    module, cls = REGISTRY[name].split(":")
    return getattr(importlib.import_module(module), cls)(cfg_policy, obs_space, act_space)
