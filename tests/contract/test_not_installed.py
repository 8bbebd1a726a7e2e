"""Every backend module exposes the contract entry points; uninstalled ones say exactly what to install."""
from __future__ import annotations

import importlib

import pytest

import envs
from contract_backends import REQUIREMENTS, backend_status, small_config


def test_backend_module_interface(any_backend):
    module = importlib.import_module(envs.BACKENDS[any_backend])
    assert callable(module.make) and callable(module.availability)
    ok, reason = module.availability()
    assert isinstance(ok, bool) and isinstance(reason, str) and reason


def test_missing_backend_says_what_to_install(missing_backend):
    if missing_backend == "<all installed>":
        return
    ok, reason = backend_status(missing_backend)
    assert not ok
    named = [req for req in REQUIREMENTS.get(missing_backend, ()) if req in reason]
    assert named, f"{missing_backend}: availability() reason names none of {REQUIREMENTS[missing_backend]}: {reason}"
    with pytest.raises((ImportError, RuntimeError, OSError)) as err:
        envs.make(missing_backend, **small_config(missing_backend))
    assert named[0] in str(err.value) and reason in str(err.value)
