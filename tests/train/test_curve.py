"""The learning-curve PNG/CSV is made from the metrics the trainer logs."""
from __future__ import annotations

import csv

import numpy as np

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


def test_trial_ends_are_plotted_where_logged(tmp_path):
    log = ScalarLog(tmp_path / "run", enabled_tb=False)
    for i in range(3):
        log.write(100 * (i + 1), {"episode/success": 0.3, "trial/first/success": 0.2, "trial/late/success": 0.1 * i,
                                  "trial/first/spl": 0.1, "perf/fps": 50.0, "perf/wall_s": 60.0 * i})
    log.close()
    write_curve(tmp_path / "run", tmp_path / "curve.png", metrics=["success"])
    with open(tmp_path / "curve.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[-3:] == ["episode/success", "trial/first/success", "trial/late/success"]
    assert [float(r["trial/late/success"]) for r in rows] == [0.0, 0.1, 0.2]


def test_episode_stats_keep_the_trials_first_and_late_episodes_apart():
    from embodied.learner.stats import LATE_EPISODE, EpisodeStats

    stats = EpisodeStats(num_envs=3, window=100)
    done = np.array([True, True, True])
    stats.add(slice(0, 3), np.array([1.0, 2.0, 3.0]), done, {"success": np.array([1.0, 0.0, 1.0])},
              np.array([0, LATE_EPISODE - 1, LATE_EPISODE]))
    stats.add(slice(0, 3), np.zeros(3), done, {"success": np.array([0.0, 1.0, 1.0])}, np.array([0, 3, 15]))
    m = stats.means()
    assert m["success"] == pytest.approx(4 / 6) and m["return"] == pytest.approx(1.0)
    assert m["first/success"] == 0.5 and m["late/success"] == 1.0 and m["first/return"] == 0.5
    stats.add(slice(0, 3), np.zeros(3), done, {"success": np.zeros(3)})  # no index: only the overall means
    assert stats.means()["first/success"] == 0.5 and stats.means()["success"] == pytest.approx(4 / 9)


def test_a_resumed_run_with_new_scalars_keeps_them_and_the_old_rows(tmp_path):
    log = ScalarLog(tmp_path / "run", enabled_tb=False)
    log.write(100, {"train/lr": 1.0, "episode/success": 0.1})
    log.close()
    log = ScalarLog(tmp_path / "run", enabled_tb=False)  # resumed, now with a recall loss
    log.write(200, {"train/lr": 0.5, "episode/success": 0.2, "train/recall_loss": 3.0})
    log.write(300, {"train/lr": 0.25, "train/recall_loss": 2.0})
    log.close()
    with open(tmp_path / "run" / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["env_steps"], r["train/lr"], r["episode/success"], r["train/recall_loss"]) for r in rows] == [
        ("100", "1.0", "0.1", ""), ("200", "0.5", "0.2", "3.0"), ("300", "0.25", "", "2.0")]
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["metrics.csv"]  # no temporary file left
