"""Lets ``import habitat`` (habitat-lab from PyPI) succeed where habitat-sim is absent: habitat-sim and its
magnum / corrade bindings are conda-only, and habitat-lab imports them at module level. Every name in these
modules is an inert placeholder, so nothing here may be asserted on: the tests that use this shim exercise
habitat-lab's own config, dataset and iterator code, which never calls into the simulator.
Installed only for modules that are really missing (with habitat-sim present it does nothing)."""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

ROOTS = ("habitat_sim", "magnum", "corrade")


class _Anything(type):
    def __getattr__(cls, name: str) -> type:
        if name.startswith("__"):
            raise AttributeError(name)
        return Placeholder

    def __getitem__(cls, item: object) -> type:
        return cls


class Placeholder(metaclass=_Anything):
    def __init__(self, *args: object, **kwargs: object):
        pass


class _Module(types.ModuleType):
    def __getattr__(self, name: str) -> type:
        if name.startswith("__"):
            raise AttributeError(name)
        return Placeholder


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, roots: tuple[str, ...]):
        self.roots = roots

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.roots:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        return _Module(spec.name)

    def exec_module(self, module):
        module.__path__ = []


def install() -> tuple[str, ...]:
    """Shim the simulator modules that are not installed; returns their names."""
    missing = tuple(root for root in ROOTS if importlib.util.find_spec(root) is None)
    if missing:
        sys.meta_path.append(_Finder(missing))
    return missing
