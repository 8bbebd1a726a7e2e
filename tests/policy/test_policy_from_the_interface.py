"""A policy written in a test folder from the ABC alone trains with ``embodied train``, evaluates with
``embodied eval`` and replays with ``embodied replay``: the interface is all the platform needs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from embodied.config import ConfigError
from embodied.policy import build

HERE = Path(__file__).resolve().parent


def embodied(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "embodied.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_an_mlp_from_the_abc_trains_evaluates_and_replays(tmp_path):
    train = embodied("train", "name=mlp", f"runs_dir={tmp_path}", "policy.name=mlp_policy:MLPPolicy",
                     "cluster=inprocess", "cluster.num_workers=1", "trainer.num_envs=4", "trainer.rollout_steps=64",
                     "trainer.update_every=32", "trainer.total_steps=512", "trainer.minibatches=2",
                     "trainer.grad_context=none", "progress=false", "tensorboard=false", cwd=tmp_path)
    assert train.returncode == 0, train.stderr[-2000:]
    assert sorted((tmp_path / "mlp" / "checkpoints").glob("ckpt-*.pt"))
    out = tmp_path / "eval"
    ev = embodied("eval", f"policy={tmp_path / 'mlp'}", "split=test", "trials=2", "episodes=2", "cluster=inprocess",
                  "references=none", "videos=0", f"out={out}", "record=all", cwd=tmp_path)
    assert ev.returncode == 0, ev.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert "mlp" in json.dumps(metrics)
    episodes = sorted((out / "episodes").rglob("*.npz")) or sorted((out / "episodes").iterdir())
    assert episodes
    rep = embodied("replay", str(out / "episodes"), "--out", str(tmp_path / "replay"), cwd=tmp_path)
    assert rep.returncode == 0, rep.stderr[-2000:]
    assert sorted((tmp_path / "replay").rglob("*.mp4"))


@pytest.mark.parametrize("name,why", [("mlp_policy:Nope", "cannot import"), ("json:JSONDecoder", "not a subclass"),
                                      ("no_such_module:X", "cannot import"), ("lstm", "allowed values")])
def test_a_bad_policy_name_says_what_is_wrong(name, why, monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    with pytest.raises(ConfigError, match=why):
        build({"name": name}, {}, {})
