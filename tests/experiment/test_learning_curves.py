"""benchmarks/learning_curves.py: window means against a numpy reference, norms read from real checkpoints,
and clear errors on runs it cannot read."""
import csv
import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "learning_curves.py"
_spec = importlib.util.spec_from_file_location("learning_curves_module", _PATH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
SHIPPED = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "incontext" / "incontext_house.pt"
LOGGED = ["episode/success", "trial/first/success", "trial/late/success", "train/imitation_loss", "train/entropy"]


def write_run(folder: Path, steps: np.ndarray, values: dict[str, np.ndarray]) -> Path:
    folder.mkdir(parents=True)
    columns = ["env_steps", "perf/wall_s", "perf/fps", *values]
    with open(folder / "metrics.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for i, s in enumerate(steps):
            w.writerow([int(s), float(i), 1000.0, *("" if math.isnan(v[i]) else repr(float(v[i]))
                                                     for v in values.values())])
    return folder


@pytest.mark.parametrize("seed", range(4))
def test_window_means_match_a_numpy_reference(tmp_path, seed):
    rng = np.random.default_rng(seed)
    steps = np.cumsum(rng.integers(1, 40_000, size=int(rng.integers(5, 120))))
    values = {c: rng.random(len(steps)) for c in LOGGED}
    for v in values.values():
        v[rng.random(len(steps)) < 0.2] = np.nan  # updates that logged no finished trial
    every = int(rng.integers(20_000, 300_000))
    rows = bench.curves(write_run(tmp_path / "run", steps, values), every)
    windows = np.unique(steps // every)
    assert [r["start"] for r in rows] == list(windows * every)
    for row, k in zip(rows, windows):
        for name, column in bench.COLUMNS.items():
            chosen = values[column][steps // every == k]
            expected = np.nanmean(chosen) if np.isfinite(chosen).any() else np.nan
            np.testing.assert_allclose(row[name], expected, rtol=1e-12, equal_nan=True)
        assert "attn_wo" not in row  # the run has no checkpoints


def test_norms_come_from_each_windows_last_checkpoint(tmp_path, capsys):
    run = write_run(tmp_path / "run", np.array([100, 900, 1500]), {"episode/success": np.array([0.1, 0.3, 0.5])})
    (run / "checkpoints").mkdir()
    data = torch.load(SHIPPED, map_location="cpu", weights_only=True)
    keys = sorted(k for k in data["policy"] if k.endswith("attn.wo.weight"))
    assert len(keys) == 2
    for steps, scale in ((200, 5.0), (800, 2.0), (1200, 3.0)):
        scaled = {**data, "policy": {**data["policy"], **{k: data["policy"][k] * scale for k in keys}}}
        torch.save(scaled, run / "checkpoints" / f"ckpt-{steps:012d}.pt")
    base = [float(torch.linalg.norm(data["policy"][k])) for k in keys]
    out = tmp_path / "out"
    assert bench.main([str(run), "--every", "1000", "--out", str(out)]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    first, second = line["runs"][str(run)]
    assert first["all"] == pytest.approx(0.2) and second["all"] == pytest.approx(0.5)
    assert first["attn_wo"] == pytest.approx([2.0 * b for b in base], rel=1e-5)  # 800 is the window's last
    assert second["attn_wo"] == pytest.approx([3.0 * b for b in base], rel=1e-5)
    assert "memory_wo" not in first and "first" not in first  # no episodic core, no trial columns
    assert json.loads((out / "learning_curves.json").read_text()) == line
    shown = (out / "learning_curves.txt").read_text().splitlines()[2]
    assert shown.endswith(f"attn.wo {2 * base[0]:.2f} / {2 * base[1]:.2f}") and "all 0.200" in shown


def test_unreadable_runs_fail_with_the_reason(tmp_path, capsys):
    assert bench.main([str(tmp_path / "nothing")]) == 2
    assert "metrics.csv does not exist" in capsys.readouterr().err
    run = write_run(tmp_path / "run", np.array([100]), {"episode/success": np.array([0.5])})
    (run / "checkpoints").mkdir()
    (run / "checkpoints" / "ckpt-000000000100.pt").write_bytes(b"not a checkpoint")
    assert bench.main([str(run)]) == 2
    assert "is not a readable checkpoint" in capsys.readouterr().err
    assert bench.main([str(run), "--every", "0"]) == 2
    assert "--every must be a positive number" in capsys.readouterr().err
