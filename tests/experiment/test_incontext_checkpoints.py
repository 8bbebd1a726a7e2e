"""benchmarks/incontext_checkpoints.py: which checkpoints it pairs, its interval over the pairs, and a run on
two copies of one run, whose pairs must agree exactly (the same weights on the same trials)."""
import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as st

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "incontext_checkpoints.py"
_spec = importlib.util.spec_from_file_location("incontext_checkpoints_module", _PATH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
SHIPPED = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "incontext" / "incontext_house.pt"


def run_with(folder: Path, steps: list[int], source: Path | None = None) -> Path:
    (folder / "checkpoints").mkdir(parents=True)
    for s in steps:
        target = folder / "checkpoints" / f"ckpt-{s:012d}.pt"
        shutil.copy(source, target) if source else target.write_bytes(b"")
    return folder


def test_pairs_spread_over_the_last_window_of_each_run(tmp_path):
    run = run_with(tmp_path / "a", list(range(32768, 2_000_000, 32768)))
    picked = bench.spread(run, 5, 500_000)
    steps = [s for s, _ in picked]
    assert steps[-1] == 1_998_848 and steps == sorted(steps) and len(set(steps)) == 5
    for s, target in zip(steps, np.linspace(1_998_848 - 500_000, 1_998_848, 5)):
        assert abs(s - target) <= 32768 / 2
    assert [s for s, _ in bench.spread(run, 1, 500_000)] == [1_998_848]
    with pytest.raises(bench.incontext.MissingCheckpoints, match="no 40 distinct checkpoints over its last 500000"):
        bench.spread(run, 40, 500_000)


def test_until_takes_the_run_as_it_was_then(tmp_path):
    steps = list(range(32768, 2_000_000, 32768))
    run = run_with(tmp_path / "a", steps)
    earlier = run_with(tmp_path / "b", [s for s in steps if s <= 1_200_000])
    assert ([s for s, _ in bench.spread(run, 4, 300_000, until=1_200_000)]
            == [s for s, _ in bench.spread(earlier, 4, 300_000)])
    assert bench.spread(run, 4, 300_000, until=1_200_000)[-1][0] == 1_179_648
    with pytest.raises(bench.incontext.MissingCheckpoints, match="no checkpoint at or before step 1000"):
        bench.spread(run, 2, 300_000, until=1000)


@pytest.mark.parametrize("seed", range(4))
def test_the_interval_over_pairs_is_a_student_t_interval(seed):
    values = list(np.random.default_rng(seed).normal(0.02, 0.05, int(3 + seed)))
    over = bench.over_checkpoints(values)
    lo, hi = st.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=st.sem(values))
    assert (over["mean"], over["lo"], over["hi"], over["n"]) == pytest.approx((np.mean(values), lo, hi, len(values)))


def test_two_copies_of_one_run_differ_by_nothing(tmp_path, capsys):
    main = run_with(tmp_path / "main", [100, 200], SHIPPED)
    control = run_with(tmp_path / "control", [1000, 1100, 1200], SHIPPED)
    out = tmp_path / "out"
    code = bench.main([f"main={main}", f"no_inter_episode={control}", "--pairs", "2", "--window", "100",
                       "--trials", "2", "--max-steps", "40", "--cluster", "inprocess", "--out", str(out)])
    assert code == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [(p["main_steps"], p["control_steps"]) for p in line["by_pair"]] == [(100, 1100), (200, 1200)]
    for p in line["by_pair"]:
        assert p["main_minus_control_11_20"]["mean"] == 0.0 and p["main_11_20"] == p["control_11_20"]
    over = line["main_minus_control_11_20_over_checkpoints"]
    assert (over["mean"], over["n"]) == (0.0, 2)
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["success_per_episode"]["main"] == saved["success_per_episode"]["no_inter_episode"]
    assert "| 200 | 1,200 |" in (out / "table.md").read_text()


def test_it_needs_two_run_directories(tmp_path, capsys):
    assert bench.main([f"main={SHIPPED}", f"no_inter_episode={SHIPPED}", "--out", ""]) == 2
    assert "is not a run directory" in capsys.readouterr().err
    assert bench.main([f"main={tmp_path}", "--out", ""]) == 2
    assert "give the two runs as main=RUN_DIR no_inter_episode=RUN_DIR" in capsys.readouterr().err
