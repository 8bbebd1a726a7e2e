"""benchmarks/compare_evals.py on real `embodied eval` runs: per-trial pairing, references left out, clear errors."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from embodied.cli import main as cli
from embodied.evaluation.stats import t_interval

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.compare_evals import compare  # noqa: E402

SAME_TRIALS = ["trials=4", "episodes=2", "seed=7", "record=none", "videos=0", "cluster=inprocess"]


def _eval(out: Path, policy: str, *extra: str) -> Path:
    assert cli(["eval", f"policy={policy}", f"out={out}", *SAME_TRIALS, *extra]) == 0
    return out


def _success_by_trial(out: Path, policy: str) -> dict[int, float]:
    rows = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    trials = sorted({r["trial"] for r in rows if r["policy"] == policy})
    return {t: float(np.mean([r["success"] for r in rows if r["policy"] == policy and r["trial"] == t]))
            for t in trials}


def test_paired_difference_over_the_same_trials(tmp_path):
    explorer = _eval(tmp_path / "explorer", "explorer", "references=[random]")  # its folder holds random's rows too
    oracle = _eval(tmp_path / "oracle", "oracle", "references=none")
    out = compare(explorer, oracle)
    a, b = _success_by_trial(explorer, "explorer"), _success_by_trial(oracle, "oracle")
    diff = [b[t] - a[t] for t in sorted(a)]
    assert out["a"] == "explorer" and out["b"] == "oracle" and out["trials"] == 4
    assert out["a_success"]["mean"] == pytest.approx(np.mean(list(a.values())), abs=1e-4)
    assert out["b_success"]["mean"] == pytest.approx(1.0)  # the oracle walks the shortest path
    assert out["b_minus_a_success"]["mean"] == pytest.approx(np.mean(diff), abs=1e-4)
    lo, hi = t_interval(diff)
    assert (out["b_minus_a_success"]["lo"], out["b_minus_a_success"]["hi"]) == pytest.approx((lo, hi), abs=1e-4)


def test_refuses_runs_on_other_trials_and_missing_folders(tmp_path):
    three = _eval(tmp_path / "three", "oracle", "references=none", "trials=3")
    four = _eval(tmp_path / "four", "oracle", "references=none")
    with pytest.raises(ValueError, match="cover different trials"):
        compare(three, four)
    with pytest.raises(FileNotFoundError, match="episodes.jsonl: no such file"):
        compare(tmp_path / "nowhere", four)
