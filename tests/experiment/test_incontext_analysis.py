"""The benchmark's statistics against straightforward re-computations, and its refusal to run without
checkpoints."""
import json
import math

import numpy as np
import pytest
from incontext_bench import bench
from scipy import stats as st


@pytest.mark.parametrize("seed", range(5))
def test_gain_matches_a_paired_t_interval(seed):
    rng = np.random.default_rng(seed)
    trials = int(rng.integers(5, 60))
    p = rng.uniform(0, 1, 20)
    success = (rng.uniform(size=(trials, 20)) < p).astype(float)
    g = bench.gain(success)
    diff = success[:, 10:20].mean(1) - success[:, 0]
    assert g["mean"] == pytest.approx(diff.mean())
    if diff.std() > 0:
        lo, hi = st.t.interval(0.95, trials - 1, loc=diff.mean(), scale=st.sem(diff))
        assert (g["lo"], g["hi"]) == pytest.approx((lo, hi))
    assert g["episode_1"]["mean"] == pytest.approx(success[:, 0].mean())
    assert g["episodes_11_20"]["mean"] == pytest.approx(success[:, 10:20].mean())
    a, b = g["episode_1"], g["episodes_11_20"]
    assert g["ci_overlap"] == (not (a["hi"] < b["lo"] or b["hi"] < a["lo"]))


def test_gain_bar_is_met_only_by_a_real_separated_gain():
    learns = np.zeros((40, 20))
    learns[:, 1:] = 1.0
    assert bench.gain(learns)["meets_issue_bar"] and not bench.gain(learns)["ci_overlap"]
    flat = (np.random.default_rng(0).uniform(size=(40, 20)) < 0.4).astype(float)
    assert not bench.gain(flat)["meets_issue_bar"]
    small = np.zeros((40, 20))
    small[:4, 10:] = 1.0  # gain 0.1 < 0.15
    assert not bench.gain(small)["meets_issue_bar"]


@pytest.mark.parametrize("seed", range(5))
def test_extrapolation_averages_each_trials_segment_success(seed):
    rng = np.random.default_rng(seed)
    T, factor = int(rng.integers(20, 60)), 4
    rows, timeline = [], []
    for trial in range(int(rng.integers(2, 7))):
        step, p = 0, rng.uniform()
        for e in range(int(rng.integers(1, 40))):
            length = int(rng.integers(1, 30))
            success = float(rng.uniform() < p)
            rows.append({"trial": trial, "episode_index": e, "episode_length": length, "success": success})
            timeline.append((trial, step, success, e))
            step += length  # the next episode starts on the step after this one's last
    ex = bench.extrapolation(rows, T, factor)
    for q, seg in enumerate(ex["success_by_segment"]):
        by_trial = {}
        for trial, start, s, _ in timeline:
            if q * T <= start < (q + 1) * T:
                by_trial.setdefault(trial, []).append(s)
        assert seg["n"] == len(by_trial)
        if by_trial:
            assert seg["mean"] == pytest.approx(np.mean([np.mean(v) for v in by_trial.values()]))
    firsts = [s for _, _, s, e in timeline if e == 0]
    assert ex["episode_1"]["mean"] == pytest.approx(np.mean(firsts))
    last = ex["success_by_segment"][-1]
    assert ex["collapsed"] == (last["n"] == 0 or last["mean"] < np.mean(firsts))
    if last["n"]:
        assert ex["last_segment_minus_episode_1"] == pytest.approx(last["mean"] - np.mean(firsts))
    else:
        assert math.isnan(ex["last_segment_minus_episode_1"])


def test_a_trial_weighs_the_same_in_every_segment_however_long_its_episodes():
    """A memoryless agent: one trial always succeeds in 5 steps, one always fails at 50. Pooling episodes
    would give 10 / 11 of the weight to the quick trial; per trial the segment's success is 0.5 throughout."""
    T, rows = 100, []
    for trial, (length, success) in enumerate([(5, 1.0), (50, 0.0)]):
        rows += [{"trial": trial, "episode_index": e, "episode_length": length, "success": success}
                 for e in range(4 * T // length)]
    ex = bench.extrapolation(rows, T, 4)
    assert [s["mean"] for s in ex["success_by_segment"]] == [0.5] * 4
    assert ex["trials_reaching_end"] == 2 and not ex["collapsed"]


def test_no_checkpoint_is_an_error_naming_where_it_looked(tmp_path):
    gru = tmp_path / "incontext_house_gru" / "checkpoints"
    gru.mkdir(parents=True)
    (gru / "ckpt-000000000100.pt").touch()
    with pytest.raises(bench.MissingCheckpoints) as e:
        bench.find_checkpoints([], tmp_path, shipped=tmp_path / "none.pt")
    assert str(tmp_path / "incontext_house") in str(e.value) and "none.pt" in str(e.value)
    main = tmp_path / "incontext_house" / "checkpoints"
    main.mkdir(parents=True)
    for steps in (200, 1000, 30):
        (main / f"ckpt-{steps:012d}.pt").touch()
    found = bench.find_checkpoints([], tmp_path, shipped=tmp_path / "none.pt")
    assert found == {"main": main / "ckpt-000000001000.pt", "gru": gru / "ckpt-000000000100.pt"}


def test_cli_fails_without_inventing_numbers(tmp_path, capsys):
    missing = tmp_path / "no_such_run"
    assert bench.main([f"main={missing}", "--out", str(tmp_path / "out")]) == 2
    out, err = capsys.readouterr()
    assert str(missing) in err
    assert set(json.loads(out.strip().splitlines()[-1])) == {"error"}
    assert not (tmp_path / "out").exists()


def test_cli_needs_twenty_episodes():
    with pytest.raises(SystemExit):
        bench.parse(["--episodes", "10"])


@pytest.mark.parametrize("seed", range(4))
def test_main_minus_control_is_a_paired_t_interval(seed):
    rng = np.random.default_rng(seed)
    trials = int(rng.integers(5, 80))
    main = (rng.uniform(size=(trials, 20)) < 0.5).astype(float)
    control = (rng.uniform(size=(trials, 20)) < 0.3).astype(float)
    d = bench.main_minus_control(main, control)
    diff = main[:, 10:20].mean(1) - control[:, 10:20].mean(1)
    lo, hi = st.t.interval(0.95, trials - 1, loc=diff.mean(), scale=st.sem(diff))
    assert d["mean"] == pytest.approx(diff.mean()) and (d["lo"], d["hi"]) == pytest.approx((lo, hi))
    assert d["meets_issue_bar"] == (diff.mean() >= 0.10 and lo > 0)


def test_attention_probe_sees_no_earlier_episode_in_the_control(tmp_path):
    """The shipped main agent attends to earlier episodes; the same weights with inter-episode attention
    switched off (the ``--cut-memory`` copy) cannot put any mass there."""
    import torch

    from embodied.learner import checkpoint

    control = bench.export_for_eval(bench.SHIPPED, tmp_path / "control.pt", memoryless=True)  # --cut-memory's copy
    weights, cut = checkpoint.read(bench.SHIPPED)["policy"], checkpoint.read(control)["policy"]
    assert weights.keys() == cut.keys() and all(torch.equal(weights[k], cut[k]) for k in weights)
    env = {"split": "test", "resolution": 32, "max_steps": 12}
    main = bench.attention_by_layer(bench.SHIPPED, env, trials=3, episodes=3, seed=0)
    ctrl = bench.attention_by_layer(control, env, trials=3, episodes=3, seed=0)
    assert len(main["share_to_earlier_episodes"]) == len(ctrl["share_to_earlier_episodes"]) >= 1
    assert all(s["mean"] == 0 for s in ctrl["share_to_earlier_episodes"])
    assert all(s["mean"] > 0 for s in main["share_to_earlier_episodes"])
    assert 0 < main["uniform_share"]["mean"] < 1


def test_memory_probe_tells_the_explorer_with_a_map_from_the_one_without():
    """Each scripted explorer, probed as the agent, follows itself on every step where the two differ."""
    from envs.house.explorer import FrontierExplorer, MemoryExplorer

    env = {"split": "test", "resolution": 16, "max_steps": 40}
    keeps = bench.memory_use(MemoryExplorer(), env, trials=4, episodes=6, seed=0)
    forgets = bench.memory_use(FrontierExplorer(), env, trials=4, episodes=6, seed=0)
    assert keeps["steps"] > 20 and forgets["steps"] > 20
    assert keeps["follows_memory"]["mean"] == 1.0 and keeps["follows_forgetful"]["mean"] == 0.0
    assert forgets["follows_forgetful"]["mean"] == 1.0 and forgets["follows_memory"]["mean"] == 0.0
    assert keeps["memory_minus_forgetful"]["mean"] == 1.0 and forgets["memory_minus_forgetful"]["mean"] == -1.0
