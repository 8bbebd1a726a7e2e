"""Hydra config loading with start-up validation: a bad value names its key and what is allowed, and (with
:class:`Reads`) a key the command does not read is an error naming it."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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

    from embodied.learner.settings import register

    register()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module("configs", version_base=None):
            cfg = compose(config_name=command, overrides=list(overrides))
    except (HydraException, OmegaConfBaseException) as e:
        cause = e.__cause__ or e.__context__  # e.g. the schema's type error under "Error merging override"
        why = f" ({str(cause).splitlines()[0]})" if isinstance(cause, OmegaConfBaseException) else ""
        raise ConfigError(f"{command}: {e}{why}".strip()) from None
    return cfg


def load_keys(command: str, overrides: Sequence[str] = ()) -> DictConfig:
    """``configs/<command>.yaml`` with ``key=value`` overrides, values read as YAML, for commands that choose no
    config groups on the command line.

    Hydra reads ``policy=...`` or ``cluster=...`` as a choice in the config group of that name, even for a
    config that uses no such group; here every key is a plain key of the command's own file, so ``embodied eval
    policy=runs/NAME cluster=inprocess`` needs no rewriting. The file's ``defaults`` entries ``{group: option}``
    become sections (``configs/<group>/<option>.yaml``, its keys set as ``group.key=...``). ``+key=value`` adds a
    key (which the command's :meth:`Reads.reject_unread` then names if nothing reads it); a ``key`` the config
    lacks is an error.
    """
    from pathlib import Path

    import yaml

    import configs

    root = Path(configs.__file__).parent
    own = OmegaConf.load(root / f"{command}.yaml")
    cfg = OmegaConf.create()
    for entry in own.pop("defaults", []):
        if entry != "_self_":
            (group, option), = entry.items()
            cfg[group] = OmegaConf.load(root / group / f"{option}.yaml")
    cfg = OmegaConf.merge(cfg, own)
    for item in overrides:
        key, sep, text = item.partition("=")
        added, key = key.startswith("+"), key.lstrip("+")
        if not sep or not key:
            raise ConfigError(f"{command}: {item!r} is not key=value")
        current = OmegaConf.select(cfg, key, default=KeyError)
        if not added and current is KeyError:
            raise ConfigError(f"{command}: {key} is not a key of configs/{command}.yaml (add one with +{key}=...)")
        if isinstance(current, DictConfig):
            raise ConfigError(f"{command}: {key} is a section of configs/{command}.yaml; set its keys ({key}.KEY=...)")
        try:
            value = yaml.safe_load(text) if text else text
        except yaml.YAMLError as e:
            raise ConfigError(f"{command}: {item!r}: the value is not valid YAML ({str(e).splitlines()[0]})") from None
        OmegaConf.update(cfg, key, value, merge=False, force_add=added)
    return cfg


class Reads(Mapping):
    """A composed config's resolved values that records every key the command reads.

    Read it like the config (``cfg.task``, ``cfg["task"]``, ``cfg.get("task")``, a section as a mapping, the
    helpers below with dotted keys); once everything has been read at start-up, :meth:`reject_unread` fails on
    every key that the command line set and nothing read, naming it (``embodied plan env.length=500``).
    Defaults that a shared config group holds for other commands (``env.num_envs`` in ``embodied plan``) are
    not errors: only what the user set is.
    """

    def __init__(self, cfg: DictConfig | Mapping, _prefix: str = "", _read: set[str] | None = None):
        self._data = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg
        self._prefix = _prefix
        self._read = set() if _read is None else _read

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        path = self._prefix + key
        self._read.add(path)
        return Reads(value, path + ".", self._read) if isinstance(value, Mapping) else value

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"config has no key {self._prefix + key!r}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def select(self, key: str) -> Any:
        """The value at dotted ``key`` (read, as are the sections on the way)."""
        node: Any = self
        for part in key.split("."):
            node = node[part]
        return node

    def plain(self, key: str, replaced: Iterable[str] = ()) -> Any:
        """The value at dotted ``key`` as plain Python (a copy); every key under it counts as read (a section
        handed on whole, e.g. ``envs.make(**cfg.plain("env"))``, whose receiver rejects keys it does not take),
        except the ``replaced`` ones (direct children that the command sets itself)."""
        import copy

        value = self.select(key)
        if not isinstance(value, Reads):
            return value

        def mark(node: Mapping, prefix: str) -> None:
            for k, v in node.items():
                self._read.add(prefix + k)
                if isinstance(v, Mapping):
                    mark(v, prefix + k + ".")
        mark({k: v for k, v in value._data.items() if k not in set(replaced)}, key + ".")
        return copy.deepcopy(value._data)

    def read(self) -> list[str]:
        """The dotted keys read so far."""
        return sorted(self._read)

    def reject_unread(self, overrides: Iterable[str], command: str) -> None:
        """Raise :class:`ConfigError` naming every key set by ``overrides`` (``key=value``, ``+key=value``,
        ``group=option``) that the command has not read; a group counts as read when a key in it was."""
        unread = []
        for item in overrides:
            key = item.split("=", 1)[0].lstrip("+")
            if item.startswith("~") or "@" in key or "/" in key:
                continue  # deletions and package / nested-group selections are Hydra's, checked by it
            if key not in self._read and not any(r.startswith(key + ".") for r in self._read):
                unread.append(item)
        if unread:
            keys = ", ".join(item.split("=", 1)[0].lstrip("+") for item in unread)
            raise ConfigError(f"{'; '.join(unread)}: `embodied {command}` does not read {keys} (it reads: "
                              f"{', '.join(k for k in self.read() if not isinstance(self._lookup(k), Mapping))})")

    def _lookup(self, key: str) -> Any:
        node: Any = self._data
        for part in key.split("."):
            node = node[part]
        return node


def _select(cfg: DictConfig | Reads, key: str) -> Any:
    if isinstance(cfg, Reads):
        try:
            return cfg.select(key)
        except KeyError:
            raise ConfigError(f"{key} is missing") from None
    return OmegaConf.select(cfg, key, throw_on_missing=True)


def choice(cfg: DictConfig | Reads, key: str, allowed: Iterable[Any]) -> Any:
    """Value at dotted ``key``, which must be one of ``allowed``."""
    allowed = list(allowed)
    value = _select(cfg, key)
    if value not in allowed:
        raise ConfigError(f"{key}={value!r} is not allowed; allowed values: {allowed}")
    return value


def check(cfg: DictConfig | Reads, key: str, predicate: Callable[[Any], bool], expected: str) -> Any:
    """Value at dotted ``key``, which must satisfy ``predicate`` (``expected`` says what that means)."""
    value = _select(cfg, key)
    if not predicate(value):
        raise ConfigError(f"{key}={value!r} is invalid; expected {expected}")
    return value


def positive_int(cfg: DictConfig | Reads, key: str) -> int:
    return check(cfg, key, lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
                 "a positive integer")
