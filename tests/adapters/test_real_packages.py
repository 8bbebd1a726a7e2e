"""Runs tests/real_packages inside the side environments that `make sideenv` builds (habitat-lab and minedojo
0.1 from PyPI, which cannot share our venv: gym 0.21, numpy<2). A missing side env fails here: CI builds
them before the slow tests, so these tests always run against the real packages."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SIDEENV = Path(os.environ.get("EMBODIED_SIDEENV", Path.home() / ".cache" / "embodied-sideenv"))


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["habitat", "minedojo"])
def test_adapter_against_the_real_package(backend):
    python = SIDEENV / backend / "bin" / "python"
    assert python.exists(), (f"no {backend} side env at {SIDEENV / backend}: build it with `make sideenv` "
                             "(or bash tests/real_packages/sideenv.sh DIR and EMBODIED_SIDEENV=DIR)")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    run = subprocess.run([str(python), "-m", "pytest", "-q", f"real_{backend}.py"],
                         cwd=ROOT / "tests" / "real_packages", env=env, capture_output=True, text=True, timeout=600)
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    sys.stdout.write(run.stdout[-3000:])
    assert run.returncode == 0, f"{backend} real-package tests failed:\n{run.stdout[-6000:]}\n{run.stderr[-3000:]}"
    assert " passed" in summary and "skipped" not in summary and "failed" not in summary, summary
