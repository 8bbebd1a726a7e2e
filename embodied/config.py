"""Hydra config loading with start-up validation: a bad value names its key and what is allowed."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf


class ConfigError(ValueError):
    """A config value or override that cannot run; the message names the key."""


def load(command: str, overrides: Sequence[str] = ()) -> DictConfig:
    """Compose ``configs/<command>.yaml`` with command-line ``key=value`` overrides."""
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    GlobalHydra.instance().clear()
    try:
        with initialize_config_module("configs", version_base=None):
            cfg = compose(config_name=command, overrides=list(overrides))
    except (HydraException, OmegaConfBaseException) as e:
        raise ConfigError(f"{command}: {e}".strip()) from None
    return cfg


def choice(cfg: DictConfig, key: str, allowed: Iterable[Any]) -> Any:
    """Value at dotted ``key``, which must be one of ``allowed``."""
    allowed = list(allowed)
    value = OmegaConf.select(cfg, key, throw_on_missing=True)
    if value not in allowed:
        raise ConfigError(f"{key}={value!r} is not allowed; allowed values: {allowed}")
    return value


def check(cfg: DictConfig, key: str, predicate: Callable[[Any], bool], expected: str) -> Any:
    """Value at dotted ``key``, which must satisfy ``predicate`` (``expected`` says what that means)."""
    value = OmegaConf.select(cfg, key, throw_on_missing=True)
    if not predicate(value):
        raise ConfigError(f"{key}={value!r} is invalid; expected {expected}")
    return value


def positive_int(cfg: DictConfig, key: str) -> int:
    return check(cfg, key, lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
                 "a positive integer")
