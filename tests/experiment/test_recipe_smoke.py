"""The recipe end to end at miniature size: `embodied train +experiment=incontext_house` writes a checkpoint,
and the benchmark evaluates it on the test houses (with the oracle and random references on the same
houses) and writes its JSON line, metrics.json, table and plot."""
import json
import os
import subprocess
import sys

import matplotlib.image
import pytest
import torch
from incontext_bench import bench

from embodied.learner import checkpoint

pytestmark = pytest.mark.slow


def test_train_then_benchmark(tmp_path, capsys):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "embodied.cli", "train", "+experiment=incontext_house", "name=mini",
           f"runs_dir={tmp_path}", "trainer.num_envs=4", "trainer.rollout_steps=32", "trainer.update_every=16", "trainer.minibatches=2",
           "trainer.total_steps=128", "env.max_steps=20", "progress=false", "tensorboard=false"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["counters"]["env_steps"] == 128
    run = tmp_path / "mini"
    assert list((run / "checkpoints").glob("ckpt-*.pt"))

    out = tmp_path / "bench"
    code = bench.main([f"main={run}", "--trials", "2", "--long-trials", "1", "--max-steps", "80",
                       "--cluster", "inprocess", "--out", str(out)])
    assert code == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    curve = line["success_per_episode"]["main"]
    assert len(curve) == 20 and all(0.0 <= s <= 1.0 for s in curve)
    assert line["env_steps"] == {"main": 128}
    oracle, random = (line["reference_success_per_episode"][k] for k in ("oracle", "random"))
    assert sum(oracle) / 20 > 0.8 > sum(random) / 20
    g = line["gain_11_20_over_1"]
    assert g["n"] == 2 and -1.0 <= g["mean"] <= 1.0
    ex = line["extrapolation"]
    assert (ex["context_T"], ex["trial_steps"], ex["trials"], ex["trials_reaching_end"]) == (32, 128, 1, 1)
    assert len(ex["success_by_segment"]) == 4

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["env"] == {"split": "test", "resolution": 32, "max_steps": 80}
    assert metrics["variants"]["main"]["context_T"] == 32
    assert "| main (transformer) | 128 |" in (out / "table.md").read_text()
    assert matplotlib.image.imread(out / "incontext.png").shape[2] in (3, 4)

    shipped = bench.export_for_eval(run, tmp_path / "eval.pt")
    full = checkpoint.latest(run)
    assert shipped.stat().st_size < 0.5 * full.stat().st_size
    (a, _), (b, _) = (checkpoint.load_policy(p) for p in (full, shipped))
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))
