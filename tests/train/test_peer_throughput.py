"""benchmarks/peer_throughput.py: its measurement of a subprocess's progress lines (fast), and the peer runners
in their side envs (slow; `make sideenv`, a step of `make test`, builds them)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
import peer_throughput as pt  # noqa: E402

FAKE = """
import time
print("starting", flush=True)
time.sleep(0.3)
steps = 0
while True:
    print(f"PEER_PROGRESS {steps} 0", flush=True)
    steps += 100
    time.sleep(0.1)
"""


def test_measure_peer_rate_window_and_stop(tmp_path):
    start = time.monotonic()
    res = pt.measure_peer([sys.executable, "-c", FAKE], pt.SB3_PROGRESS, tmp_path / "fake.log", seconds=1.0,
                          warmup=0.3, env={}, cwd=tmp_path)
    assert 1.0 <= res["window_s"] < 1.5 and res["window_steps"] >= 800
    assert 600 < res["steps_per_s"] < 1100  # 100 steps per 0.1 s, less the printing's own time
    assert time.monotonic() - start < 10  # stopped by SIGINT, not left running
    assert "PEER_PROGRESS" in (tmp_path / "fake.log").read_text()


def test_measure_peer_waits_for_ready_lines(tmp_path):
    ready_code = FAKE.replace('print("starting", flush=True)', 'print("ready", flush=True)')
    res = pt.measure_peer([sys.executable, "-c", ready_code], pt.SB3_PROGRESS, tmp_path / "fake.log", seconds=0.5,
                          warmup=0.0, env={}, cwd=tmp_path, ready=(re.compile("ready"), 1))
    assert res["window_steps"] >= 400


def test_a_dead_subprocess_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match="ended"):
        pt.measure_peer([sys.executable, "-c", "print('PEER_PROGRESS 0 0')"], pt.SB3_PROGRESS, tmp_path / "x.log",
                        seconds=1.0, warmup=0.0, env={}, cwd=tmp_path)


def _side_python(name: str) -> Path:
    python = pt.sideenv_root() / name / "bin" / "python"
    assert python.exists(), (f"no {name} side env at {python.parent.parent}: `make sideenv` (a step of `make test`) "
                             "builds it, or `bash benchmarks/peer/sideenv.sh DIR` with EMBODIED_SIDEENV=DIR")
    return python


@pytest.mark.slow
def test_sb3_runner_trains_one_update_on_the_house(tmp_path):
    python = _side_python("peer-sb3")
    temp = tmp_path / "tmp"
    temp.mkdir()
    run = subprocess.run([str(python), str(pt.PEER / "sb3_house.py"), "--resolution=32", "--steps=1024"],
                         env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temp)}, cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    steps = [int(line.split()[1]) for line in run.stdout.splitlines() if line.startswith("PEER_PROGRESS")]
    assert steps[0] == 0 and steps[-1] >= 1024, run.stdout[-2000:]
    assert not list(temp.glob("SB3-*"))  # no log folder left behind


@pytest.mark.slow
def test_sf_runner_trains_on_the_house(tmp_path):
    """sample-factory APPO with our trunk under gymnasium 0.29 (the runner's AutoresetMode shim): ~20 s."""
    python = _side_python("peer-sf")
    run = subprocess.run([str(python), str(pt.PEER / "sf_house.py"), "--resolution=32", f"--train_dir={tmp_path}",
                          "--train_for_env_steps=2048"], env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-4000:]
    collected = re.search(r"Collected \{0: (\d+)\}", out)
    assert collected and int(collected.group(1)) >= 2048, out[-3000:]
