"""A run on an external simulator that is not installed here stops before anything starts, in one line that
names what is missing and how to install it (this venv has neither habitat nor minedojo: they live in the
side envs of tests/real_packages)."""
from __future__ import annotations

import importlib.util

import pytest

from embodied import cli


@pytest.mark.parametrize("backend,names", [("minedojo", ["minedojo==0.1", "gym==0.21.0", "--no-build-isolation"]),
                                           ("habitat", ["habitat-sim", "habitat-lab==0.3.320260507"])])
def test_train_without_the_simulator_fails_in_one_line(backend, names, tmp_path, capsys):
    assert importlib.util.find_spec(backend) is None, f"{backend} is installed in the main venv"
    assert cli.main(["train", f"env={backend}", f"runs_dir={tmp_path}", "cluster=inprocess"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: env={backend}: "), err
    assert all(name in err[0] for name in names)
    assert not any(tmp_path.iterdir())  # no run directory left behind
