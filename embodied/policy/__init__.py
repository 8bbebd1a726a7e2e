"""Policies behind one factory, ``build(cfg_policy, obs_space, act_space)``.

``REGISTRY`` maps ``cfg_policy.name`` to ``"module:Class"``; the class is imported on demand and
constructed as ``Class(cfg_policy, obs_space, act_space)`` (a ``Policy``, see ``interface.py``).
To add a policy, write such a class and add one entry here, or name it directly on the command line:
``policy.name=package.module:Class``.
"""
from __future__ import annotations

import importlib
from collections.abc import Iterable

import gymnasium
from omegaconf import DictConfig

from embodied.config import ConfigError
from embodied.policy.interface import Policy

REGISTRY: dict[str, str] = {
    "transformer": "embodied.policy.transformer:SinkKVTransformer",
    "gru": "embodied.policy.gru:GRUPolicy",
}


def policy_class(name: object) -> type[Policy]:
    """The class ``policy.name`` names: a ``REGISTRY`` entry, or ``package.module:Class`` (any importable
    subclass of ``Policy``, e.g. one written in a user's own package)."""
    target = REGISTRY.get(name) if isinstance(name, str) else None
    if target is None and isinstance(name, str) and ":" in name:
        target = name
    if target is None:
        raise ConfigError(f"policy.name={name!r} is not allowed; allowed values: {sorted(REGISTRY)} "
                          "or package.module:Class (a subclass of embodied.policy.interface.Policy)")
    module, _, cls = target.partition(":")
    try:
        found = getattr(importlib.import_module(module), cls)
    except (ImportError, AttributeError) as e:
        raise ConfigError(f"policy.name={name!r}: cannot import it ({type(e).__name__}: {e})") from None
    if not (isinstance(found, type) and issubclass(found, Policy)):
        raise ConfigError(f"policy.name={name!r} is not a subclass of embodied.policy.interface.Policy")
    return found


def build(cfg_policy: DictConfig | dict, obs_space: dict[str, gymnasium.Space],
          act_space: dict[str, gymnasium.Space]) -> Policy:
    """The policy named by ``cfg_policy.name``."""
    return policy_class(cfg_policy.get("name"))(cfg_policy, obs_space, act_space)


def check_config(cfg_policy: DictConfig | dict, overrides: Iterable[str] = ()) -> None:
    """Validate the policy keys before anything starts (run directory, Ray): every bad value fails here,
    naming its key, rather than when the policy is built on the env's spaces; so does every ``policy.*`` key
    that ``overrides`` (``embodied train``'s command line) set and the policy does not read. Keys an
    experiment file sets for another policy (its transformer sizes under ``policy=gru``) are not the user's
    typo, so only what the user set is checked."""
    from embodied.policy.settings import GRUSettings, TransformerSettings, policy_root

    name = cfg_policy.get("name") if hasattr(cfg_policy, "get") else None
    policy_class(name)
    if name not in REGISTRY:
        return  # a policy of the user's own: its constructor checks its keys
    root = policy_root(cfg_policy)
    root.select("policy.name")  # checked above
    if name == "transformer":  # the action space only sizes the output head: any will do for the checks
        TransformerSettings.from_config(root, {"action": gymnasium.spaces.Discrete(2)})
    else:
        GRUSettings.from_config(root)
    root.reject_unread([item for item in overrides if item.lstrip("+").startswith("policy.")], "train")
