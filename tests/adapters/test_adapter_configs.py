"""configs/env/habitat.yaml and minedojo.yaml compose with `embodied train` and reach the adapters intact."""
from __future__ import annotations

import inspect

import pytest
from omegaconf import OmegaConf

import envs
import envs.habitat as habitat_backend
import envs.minedojo as minedojo_backend
from embodied.config import load
from envs.habitat import build


def env_config(name: str, *overrides: str) -> dict:
    cfg = load("train", [f"env={name}", *overrides])
    return OmegaConf.to_container(cfg.env, resolve=True)


def test_habitat_config_reaches_the_task_options(monkeypatch, tmp_path):
    cfg = env_config("habitat", f"env.data_dir={tmp_path}", "env.dataset=hssd", "env.resolution=64")
    assert cfg["name"] == "habitat" and "seed" not in cfg  # the run's seed is passed separately
    seen = {}
    monkeypatch.setattr(habitat_backend, "missing_packages", lambda: [])
    monkeypatch.setattr(habitat_backend, "data_problem", lambda *a: None)
    monkeypatch.setattr(build, "build_env", lambda options, **kw: seen.update(options=options, **kw))
    envs.make(**cfg, seed=7)
    assert seen["options"].resolution == 64 and seen["options"].success_distance == 2.0
    assert seen["dataset"] == "hssd" and seen["data_dir"] == str(tmp_path) and seen["seed"] == 7


def test_habitat_data_dir_defaults_to_the_environment_variable(monkeypatch):
    monkeypatch.setenv("EMBODIED_HABITAT_DATA", "/mnt/habitat")
    assert env_config("habitat")["data_dir"] == "/mnt/habitat"


def test_minedojo_config_keys_are_make_arguments():
    cfg = env_config("minedojo", "env.task=harvest_1_log")
    params = inspect.signature(minedojo_backend.make).parameters
    assert set(cfg) <= set(params), set(cfg) - set(params)
    if not minedojo_backend.availability()[0]:  # here: the whole config is accepted up to the simulator
        with pytest.raises(ImportError, match="minedojo"):
            envs.make(**cfg, seed=0)
