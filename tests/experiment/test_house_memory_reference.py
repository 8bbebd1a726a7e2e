"""The scripted memory references' benchmark: on the same-start variant the memoryless explorer repeats itself
exactly (gain 0 in every trial), the one that keeps its map never does worse than its first episode."""
import importlib.util
import json
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "house_memory_reference", Path(__file__).resolve().parents[2] / "benchmarks" / "house_memory_reference.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_same_start_trials_gain_only_with_memory(tmp_path, capsys):
    args = ["--trials", "4", "--caps", "30", "--splits", "train", "--goal-per", "trial", "--start-per", "trial",
            "--out", str(tmp_path)]
    assert bench.main(args) == 0
    (setting,) = json.loads((tmp_path / "metrics.json").read_text())["settings"]
    assert setting["start_per"] == "trial" and setting["goal_per"] == "trial"
    forget, keep = setting["explorer"], setting["explorer_memory"]
    assert forget["gain"]["mean"] == 0 and forget["gain"]["lo"] == forget["gain"]["hi"] == 0
    assert keep["episode_1"]["mean"] == forget["episode_1"]["mean"]  # the same first episode
    assert min(keep["curve"]) >= keep["curve"][0] - 1e-9
    assert "| trial | trial | 30 | train |" in (tmp_path / "table.md").read_text()
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["gains"]["trial/trial/30/train"]


def test_same_start_needs_one_goal_per_trial():
    with pytest.raises(SystemExit):
        bench.main(["--start-per", "trial", "--goal-per", "episode", "--out", ""])
