"""The learning-curve PNG/CSV is made from the metrics the trainer logs."""
from __future__ import annotations

import csv

import pytest

from embodied.learner.curve import write_curve
from embodied.learner.stats import ScalarLog


def test_curve_from_logged_metrics(tmp_path):
    log = ScalarLog(tmp_path / "run", enabled_tb=False)
    for i in range(5):
        log.write(100 * (i + 1), {"episode/success": i / 10, "episode/spl": i / 20, "episode/soft_spl": 0.5,
                                  "episode/episode_length": 30.0,
                                  "perf/fps": 50.0, "perf/wall_s": 60.0 * i, "train/lr": 1e-3})
    log.close()
    png = write_curve(tmp_path / "run", tmp_path / "out" / "curve.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(tmp_path / "out" / "curve.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [float(r["episode/success"]) for r in rows] == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert [float(r["env_steps"]) for r in rows] == [100, 200, 300, 400, 500]


def test_missing_run_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="metrics.csv"):
        write_curve(tmp_path / "nope", tmp_path / "c.png")


def test_a_resumed_runs_clock_continues_where_the_last_process_stopped():
    from embodied.learner.curve import training_time

    assert training_time([10.0, 20.0, 5.0, 15.0, 3.0]) == [10.0, 20.0, 25.0, 35.0, 38.0]
    assert training_time([1.0, 2.0, 3.0]) == [1.0, 2.0, 3.0]
