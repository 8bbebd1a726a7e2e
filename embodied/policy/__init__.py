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


def check_config(cfg_policy: DictConfig | dict) -> None:
    """Validate the policy keys before anything starts (run directory, Ray): every bad value fails here,
    naming its key, rather than when the policy is built on the env's spaces."""
    from embodied.policy.settings import TokenSettings, TransformerSettings, policy_root

    name = cfg_policy.get("name") if hasattr(cfg_policy, "get") else None
    if name not in REGISTRY:
        raise ConfigError(f"policy.name={name!r} is not allowed; allowed values: {sorted(REGISTRY)}")
    if name == "transformer":  # the action space only sizes the output head: any will do for the checks
        TransformerSettings.from_config(cfg_policy, {}, {"action": gymnasium.spaces.Discrete(2)})
    else:
        TokenSettings.from_config(policy_root(cfg_policy))
