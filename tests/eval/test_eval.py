"""`embodied eval` end to end on the real house simulator: curves, files, Ray = in-process, few-shot, errors."""
from __future__ import annotations

import json

import pytest

from embodied.cli import main as cli
from embodied.commands.eval import settings
from embodied.config import ConfigError, load_keys

SMALL = ["trials=3", "episodes=2", "chunk_size=2", "videos=2", "video_size=64", "seed=4"]


def _rows(out):
    return [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def oracle_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "oracle"
    assert cli(["eval", "policy=oracle", "cluster=inprocess", f"out={out}", *SMALL]) == 0
    return out


def test_outputs_and_curve(oracle_run):
    m = json.loads((oracle_run / "metrics.json").read_text())
    assert m["agent"] == "oracle" and set(m["policies"]) == {"oracle", "random", "explorer", "explorer_memory"}
    curve = m["policies"]["oracle"]["curve"]
    assert [p["n"] for p in curve["success"]] == [3, 3]
    rows = [r for r in _rows(oracle_run) if r["policy"] == "oracle"]
    assert sorted((r["trial"], r["episode_index"]) for r in rows) == [(t, e) for t in range(3) for e in range(2)]
    for e in range(2):  # the curve is the mean over trials at each episode index
        at = [r for r in rows if r["episode_index"] == e]
        assert curve["spl"][e]["mean"] == pytest.approx(sum(r["spl"] for r in at) / 3)
        assert curve["spl"][e]["lo"] <= curve["spl"][e]["mean"] <= curve["spl"][e]["hi"] <= 1.0
    assert (oracle_run / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(list((oracle_run / "episodes").glob("*.episode"))) == 6  # record=all, one trial per env
    assert len(m["videos"]) == 2 and all((oracle_run / v["video"]).stat().st_size > 0 for v in m["videos"])
    html = (oracle_run / "report.html").read_text()
    assert 'src="curve.png"' in html and all(f'src="{v["video"]}"' in html for v in m["videos"])


def test_ray_workers_give_the_same_rows(oracle_run, ray_session, tmp_path):
    assert cli(["eval", "policy=oracle", "cluster=local", "references=none", "record=none",
                f"out={tmp_path}", *SMALL]) == 0
    ours = _rows(tmp_path)
    assert ours == [r for r in _rows(oracle_run) if r["policy"] == "oracle"]


def test_fewshot_oracle_drives_the_first_episodes(tmp_path):
    assert cli(["eval", "policy=random", "fewshot=2", "episodes=3", "trials=4", "references=none",
                "record=none", "cluster=inprocess", f"out={tmp_path}"]) == 0
    succ = [p["mean"] for p in json.loads((tmp_path / "metrics.json").read_text())["policies"]["random"]
            ["curve"]["success"]]
    assert succ[0] == succ[1] == 1.0 and succ[2] <= 0.25


@pytest.mark.parametrize("override,message", [
    ("split=holdout", "split='holdout' is not allowed; allowed values: ['train', 'val', 'test']"),
    ("cluster=k8s", "cluster='k8s' is not allowed"),
    ("trials=0", "trials=0 is invalid; expected a positive integer"),
    ("fewshot=5", "fewshot=5 is invalid; expected fewer than episodes=5"),
    ("record=sometimes", "record='sometimes' is invalid; expected all, none, failures or every:K"),
    ("references=[oracle,human]", "references="),
    ("policy=/no/such/ckpt.pt", "policy='/no/such/ckpt.pt' is not allowed"),
])
def test_bad_config_names_the_key(override, message, capsys):
    assert cli(["eval", override]) == 2
    assert message in capsys.readouterr().err


def test_keys_named_like_config_groups_are_plain_eval_keys():
    """``policy`` and ``cluster`` are also training config groups; eval reads them as its own keys, as YAML."""
    cfg = load_keys("eval", ["policy=runs/x", "cluster=inprocess", "references=[oracle, random]", "out=null",
                             "seed=3", "greedy=true", "+extra=1"])
    assert (cfg.policy, cfg.cluster, list(cfg.references), cfg.out, cfg.seed, cfg.greedy, cfg.extra) == \
        ("runs/x", "inprocess", ["oracle", "random"], None, 3, True, 1)
    with pytest.raises(ConfigError, match="trial is not a key of configs/eval.yaml"):
        load_keys("eval", ["trial=3"])
    sim = load_keys("sim", ["policy=explorer", "env.resolution=32"])  # the env section from configs/env/house.yaml
    assert (sim.policy, sim.env.name, sim.env.resolution) == ("explorer", "house", 32)
    with pytest.raises(ConfigError, match="env is a section of configs/sim.yaml"):
        load_keys("sim", ["env=crafter"])


def test_checkpoint_that_is_not_one_fails_early(tmp_path):
    bogus = tmp_path / "model.pt"
    bogus.write_bytes(b"garbage")
    cfg = load_keys("eval", [f"policy={bogus}"])
    with pytest.raises(Exception, match="model.pt"):
        settings(cfg)
