"""`embodied train` end to end on the house env: run directory, resume with overrides, config errors, baselines."""
from __future__ import annotations

import json

import pytest
from omegaconf import OmegaConf

from embodied import cli
from embodied.learner import checkpoint

TINY = ["cluster=inprocess", "cluster.num_workers=1", "trainer.num_envs=4", "trainer.rollout_steps=16",
        "trainer.update_every=8", "trainer.epochs=1", "trainer.minibatches=1", "progress=false",
        "env.resolution=16", "policy.hidden=16", "policy.token_dim=16", "policy.encoder.channels=[4,8]",
        "policy.encoder.feature_dim=8", "policy.encoder.weights=null"]


def train(tmp_path, *args):
    return cli.main(["train", f"runs_dir={tmp_path}", *TINY, *args])


def test_run_directory_and_resume_with_overrides(tmp_path, capsys):
    assert train(tmp_path, "name=a", "trainer.total_steps=64") == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    run = tmp_path / "a"
    assert result["run_dir"] == str(run) and result["counters"]["env_steps"] == 64
    saved = OmegaConf.load(run / "config.yaml")
    assert saved.trainer.rollout_steps == 16 and saved.env.name == "house" and saved.name == "a"
    header = (run / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"episode/success", "episode/spl", "perf/fps", "train/lr", "train/value_loss", "trial/first/success",
            "trial/late/success"} <= set(header)
    assert list((run / "tb").glob("events.out.tfevents.*"))
    assert checkpoint.read(checkpoint.latest(run))["counters"]["env_steps"] == 64
    # resume: the saved config, with the overrides given now
    assert cli.main(["train", f"resume={run}", "trainer.total_steps=128", "progress=false"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["counters"]["env_steps"] == 128 and result["counters"]["rollouts"] == 2
    assert checkpoint.read(checkpoint.latest(run))["config"]["trainer"]["total_steps"] == 128


def test_resume_of_a_run_saved_before_newer_trainer_keys(tmp_path, capsys):
    """A checkpoint written before a trainer key existed resumes as it ran (e.g. its updates in line)."""
    import torch

    assert train(tmp_path, "name=old", "trainer.total_steps=64") == 0
    file = checkpoint.latest(tmp_path / "old")
    data = torch.load(file, weights_only=True)
    for key in checkpoint.TRAINER_BEFORE:
        del data["config"]["trainer"][key]
    torch.save(data, file)
    capsys.readouterr()
    assert cli.main(["train", f"resume={tmp_path / 'old'}", "trainer.total_steps=128", "progress=false"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["counters"]["env_steps"] == 128
    resumed = checkpoint.read(checkpoint.latest(tmp_path / "old"))["config"]["trainer"]
    assert {k: resumed[k] for k in checkpoint.TRAINER_BEFORE} == checkpoint.TRAINER_BEFORE


@pytest.mark.parametrize("args, key", [
    (["trainer.update_every=5"], "trainer.update_every"),
    (["trainer.num_envs=5", "cluster.num_workers=2"], "trainer.num_envs"),
    (["trainer.num_envs=6", "cluster.num_workers=2", "cluster.double_buffer=true"], "trainer.num_envs"),
    (["cluster.double_buffer=sometimes"], "cluster.double_buffer"),
    (["cluster=nope"], "cluster"),
    (["policy.name=lstm"], "policy.name"),
])
def test_bad_config_fails_naming_the_key(tmp_path, capsys, args, key):
    assert train(tmp_path, "name=bad", *args) == 2
    assert key in capsys.readouterr().err


def test_existing_run_is_not_clobbered(tmp_path, capsys):
    assert train(tmp_path, "name=b", "trainer.total_steps=16") == 0
    before = sorted(p.read_bytes() for p in (tmp_path / "b" / "checkpoints").iterdir())
    assert train(tmp_path, "name=b", "trainer.total_steps=16") == 2
    assert "resume=" in capsys.readouterr().err
    assert sorted(p.read_bytes() for p in (tmp_path / "b" / "checkpoints").iterdir()) == before


@pytest.mark.parametrize("inter_episode", ["true", "false"])
def test_transformer_baselines_train_on_the_same_trainer(tmp_path, inter_episode):
    args = ["policy=relic_small", f"policy.inter_episode={inter_episode}", "policy.d_model=16", "policy.layers=1",
            "policy.heads=2", "policy.head_dim=8", "policy.mlp_hidden=32", "policy.encoder.channels=[4,8]",
            "policy.encoder.feature_dim=8", "policy.encoder.weights=null", "trainer.total_steps=32", "name=tf"]
    assert cli.main(["train", f"runs_dir={tmp_path}", *[a for a in TINY if not a.startswith("policy.")], *args]) == 0
    _, cfg = checkpoint.load_policy(tmp_path / "tf")
    assert cfg.policy.name == "transformer" and cfg.policy.inter_episode == (inter_episode == "true")


def test_recorded_training_episodes_are_replayable_files(tmp_path):
    from embodied.replay.episode_file import SUFFIX, read

    assert train(tmp_path, "name=rec", "trainer.total_steps=64", "record=all") == 0
    files = sorted((tmp_path / "rec" / "episodes").glob(f"*{SUFFIX}"))
    result = checkpoint.read(checkpoint.latest(tmp_path / "rec"))
    assert len(files) == result["counters"]["episodes"] > 0  # every finished episode, and only those
    episode = read(files[0])
    assert len(episode.actions) == int(episode.metrics["episode_length"])
    assert train(tmp_path, "name=rec2", "record=some") == 2


@pytest.mark.parametrize("cluster", ["inprocess", "local"])
def test_default_house_training_stores_features_of_the_frozen_pretrained_encoder(tmp_path, request, cluster):
    """The default encoder (house-pretrained, frozen): the workers (Ray actors too) send its features, the
    buffer stores them, the agent acted on them, and training leaves the encoder as shipped, so evaluation
    recomputes the same features from frames."""
    import torch

    from embodied.config import load
    from embodied.learner.trainer import Trainer
    from embodied.policy.encoders import FEATURE_KEY, weights_path

    remote = cluster == "local"
    if remote:
        request.getfixturevalue("ray_session")
    args = [a for a in TINY if not a.startswith(("policy.", "cluster"))]
    cfg = load("train", [*args, f"cluster={cluster}", "env.resolution=32", "trainer.total_steps=64"])
    trainer = Trainer(cfg, tmp_path / "run", remote=remote, progress=False, tensorboard=False)
    try:
        assert trainer.rollout(learn=False)
        buf = trainer.buffer
        assert FEATURE_KEY in buf.obs and "rgb" not in buf.obs and "depth" not in buf.obs
        assert buf.obs[FEATURE_KEY].shape == (4, 16, 128) and buf.obs[FEATURE_KEY].abs().sum() > 0
        with torch.no_grad():
            _, values = trainer.policy(buf.inputs(16))
        torch.testing.assert_close(values, buf.value, atol=1e-5, rtol=1e-5)  # acting saw the stored features
        trainer.train()
    finally:
        trainer.close()
    shipped = torch.load(weights_path("house_cnn32"), weights_only=True)
    policy, _ = checkpoint.load_policy(tmp_path / "run")
    for key, value in policy.tokenizer.encoder.state_dict().items():
        torch.testing.assert_close(value, shipped[key])
