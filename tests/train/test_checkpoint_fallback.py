"""A damaged newest checkpoint does not lose the run: resume and eval fall back to the newest readable one,
saying so; a damaged file named directly is a one-line error from every command."""
from __future__ import annotations

import shutil

import pytest

from embodied import cli
from embodied.learner import checkpoint

SHIPPED = "benchmarks/results/incontext/incontext_house.pt"  # a real (evaluation-only) checkpoint


def _damage(path, how: str) -> None:
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 3], "garbage": b"\x00garbage" * 100,
                      "empty": b""}[how])


@pytest.mark.parametrize("how", ["truncated", "garbage", "empty"])
def test_newest_unreadable_checkpoint_falls_back_with_a_warning(tmp_path, capsys, how):
    folder = checkpoint.checkpoint_dir(tmp_path)
    folder.mkdir(parents=True)
    good, bad = folder / "ckpt-000000001000.pt", folder / "ckpt-000000002000.pt"
    shutil.copy(SHIPPED, good)
    shutil.copy(SHIPPED, bad)
    _damage(bad, how)
    assert checkpoint.resolve(tmp_path) == good
    err = capsys.readouterr().err
    assert "warning:" in err and str(bad) in err and str(good) in err
    _damage(good, how)
    with pytest.raises(checkpoint.CheckpointError, match="no readable checkpoint"):
        checkpoint.resolve(tmp_path)


def test_eval_of_a_damaged_checkpoint_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    shutil.copy(SHIPPED, bad)
    _damage(bad, "truncated")
    rc = cli.main(["eval", f"policy={bad}", "trials=1", "episodes=1", "cluster=inprocess", f"out={tmp_path / 'o'}"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.startswith("error:") and str(bad) in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_bad_policy_value_fails_before_the_run_directory_exists(tmp_path, capsys):
    rc = cli.main(["train", "policy=relic_small", "policy.sink=banana", f"runs_dir={tmp_path}", "name=x",
                   "cluster=inprocess"])
    assert rc == 2 and "policy.sink='banana'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("args, named", [
    (["+policy.foo=1"], "policy.foo"),                                  # a key the GRU does not read
    (["policy=relic_small", "+policy.hidden=64"], "policy.hidden"),     # the GRU's key on the transformer
    (["env.max_steps=abc"], "max_steps='abc'"),                         # rejected by the env itself
    (["+env.resolutionn=32"], "resolutionn"),
    (["env=darkroom", "env.size=1"], "env.size=1"),
])
def test_unread_or_bad_keys_fail_before_the_run_directory_exists(tmp_path, capsys, args, named):
    rc = cli.main(["train", *args, f"runs_dir={tmp_path}", "name=x", "cluster=local"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and named in err and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "x").exists()
