"""benchmarks/encoder_call.py: its JSON, and that an A/B refuses a version that computes something else."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import embodied.policy.encoders as encoders

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "encoder_call.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--rounds", "1", *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def test_against_itself_prints_times_and_ratios():
    out = run("--against", encoders.__file__)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    for key in ("call_us_8", "call_us_16", "train_ms_512"):
        assert result[key] > 0 and result["against"][key] > 0
        assert result["new_over_against"][key] == round(result[key] / result["against"][key], 3)


def test_against_a_different_encoder_fails_naming_the_case(tmp_path):
    other = tmp_path / "encoders_other.py"
    source = Path(encoders.__file__).read_text()
    assert "div(255.0)" in source
    other.write_text(source.replace("div(255.0)", "div(256.0)"))
    out = run("--against", str(other))
    assert out.returncode != 0
    assert "call_us_8 outputs differ" in out.stderr
