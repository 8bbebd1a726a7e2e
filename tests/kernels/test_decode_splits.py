"""benchmarks/decode_splits.py (the sweep that set the decode kernel's split heuristic) runs and checks every
output against the reference; here under the Triton interpreter at tiny sizes, on an H200 at 64k keys."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import decode_splits  # noqa: E402


def test_sweep_times_every_tile_and_split_and_reports_the_best(capsys):
    result = decode_splits.main(["--keys", "48", "--batch", "2", "--splits", "1", "3", "--tiles", "16:1:1"])
    assert [(r["block_n"], r["splits"]) for r in result["rows"]] == [(16, 1), (16, 3)]
    assert all(r["max_abs_err"] < decode_splits.TOLERANCE and r["us"] > 0 for r in result["rows"])
    assert result["best"] in result["rows"] and result["best_bandwidth_fraction"] > 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("{\"device\"")
