"""Parametrises the env contract suite over every backend in ``envs.BACKENDS``.

Installed backends run the whole suite (test_contract.py); the others run only the check that they
say what to install (test_not_installed.py), and the terminal summary lists them as not run, with why.
"""
from __future__ import annotations

import pytest

import envs
from contract_backends import NOT_RUN, PLANNERS, backend_status


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    status = {name: backend_status(name) for name in envs.BACKENDS}
    installed = [n for n, (ok, _) in status.items() if ok]
    missing = [n for n, (ok, _) in status.items() if not ok]
    NOT_RUN.clear()
    NOT_RUN.update({n: status[n][1] for n in missing})
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", installed or ["<none installed>"])
    if "missing_backend" in metafunc.fixturenames:
        # With every backend installed, the check runs on none: parametrise with a sentinel that passes.
        metafunc.parametrize("missing_backend", missing or ["<all installed>"])
    if "planner_backend" in metafunc.fixturenames:
        offered = [n for n in installed if n in PLANNERS]
        metafunc.parametrize("planner_backend", offered or ["<none installed>"])
    if "any_backend" in metafunc.fixturenames:
        metafunc.parametrize("any_backend", list(envs.BACKENDS))


def pytest_terminal_summary(terminalreporter) -> None:
    if not NOT_RUN:
        return
    terminalreporter.write_sep("-", "env contract suite: backends not installed, suite not run")
    for name, reason in NOT_RUN.items():
        terminalreporter.write_line(f"{name}: {reason}")
