"""embodied.config.Reads: `embodied sim` and `embodied eval` (like `embodied plan`, tests/planner) reject every
key the command line sets that the command does not read, naming it, before any simulator starts."""
from __future__ import annotations

import pytest

from embodied.cli import main as cli
from embodied.config import ConfigError, Reads, load_keys


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    return err


@pytest.mark.parametrize("command, override, key", [
    ("sim", "+foo=1", "foo"),
    ("sim", "env.split=train", "env.split"),  # sim's own split= replaces it
    ("sim", "env.num_envs=3", "env.num_envs"),
    ("eval", "+foo=1", "foo"),
    ("eval", "+env.resolution=32", "env.resolution"),
])
def test_a_key_the_command_does_not_read_is_an_error_naming_it(command, override, key, tmp_path, capsys):
    out = tmp_path / "out"
    extra = [f"metrics={out}.json"] if command == "sim" else [f"out={out}", "cluster=inprocess"]
    assert cli([command, override, "episodes=1", *extra]) == 2
    err = one_line_error(capsys)
    assert f"`embodied {command}` does not read {key} (it reads: " in err
    assert not out.exists() and not out.with_suffix(".json").exists()


def test_sim_accepts_the_keys_it_reads_and_hands_the_env_section_on(tmp_path, capsys):
    metrics = tmp_path / "m.json"
    assert cli(["sim", "episodes=2", "num_envs=2", "env.resolution=32", "env.max_steps=30", "split=val",
                f"metrics={metrics}"]) == 0
    assert metrics.exists()


def test_plain_marks_a_section_read_except_what_the_command_replaces():
    cfg = Reads(load_keys("sim"))
    env = cfg.plain("env", replaced=("split", "num_envs", "seed"))
    assert isinstance(env, dict) and env["name"] == "house"
    env["name"] = "changed"
    assert cfg.select("env.name") == "house"  # a copy
    cfg.reject_unread(["env.resolution=32", "env.max_steps=9"], "sim")
    with pytest.raises(ConfigError, match="does not read env.split"):
        cfg.reject_unread(["env.split=val"], "sim")
