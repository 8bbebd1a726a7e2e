"""The house-pretrained encoder: the command writes weights a policy loads, and the shipped weights see."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from embodied.cli import main as cli
from embodied.policy import build, pretrain
from embodied.policy.encoders import VisualEncoder, weights_path

SHIPPED = {"name": "cnn", "feature_dim": 128, "image_keys": {"rgb": 3, "depth": 1}, "channels": [16, 32, 64], "grid": 4, "goal_size": 20}


def _stop_f1(encoder: VisualEncoder, train: pretrain.Frames, test: pretrain.Frames, seed: int) -> float:
    """F1 on ``test`` of a logistic regression from the encoder's features to "stopping now succeeds"."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        (x_train, y_train), (x_test, y_test) = (pretrain.features_and_targets(encoder, f, np.arange(len(f.labels)), rng)
                                                for f in (train, test))
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    y_train, y_test = y_train[:, :1], y_test[:, :1]
    head = torch.nn.Linear(x_train.shape[1], 1)
    opt = torch.optim.Adam(head.parameters(), lr=0.05)
    weight = ((1 - y_train.mean()) / y_train.mean().clamp_min(1e-3)).clamp(1, 10)
    for _ in range(300):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(head(x_train), y_train, pos_weight=weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        pred, y = head(x_test) > 0, y_test > 0.5
    return 2 * float((pred & y).sum()) / max(1.0, float(pred.sum() + y.sum()))


def test_shipped_weights_see_what_a_random_encoder_does_not():
    seed = int(np.random.SeedSequence().entropy % 2**31)
    train = pretrain.collect(4000, 32, "train", seed)
    test = pretrain.collect(2000, 32, "val", seed + 1)
    torch.manual_seed(seed)
    shipped = VisualEncoder(**SHIPPED, weights="house_cnn32").eval()
    untrained = VisualEncoder(**SHIPPED).eval()
    f1_shipped, f1_untrained = _stop_f1(shipped, train, test, seed), _stop_f1(untrained, train, test, seed)
    assert f1_shipped > 0.35 and f1_shipped > f1_untrained + 0.1, (f1_shipped, f1_untrained, seed)


def test_pretrain_command_writes_weights_a_frozen_policy_loads(tmp_path):
    out = tmp_path / "enc.pt"
    assert cli(["pretrain", f"out={out}", "frames=600", "held_out_frames=200", "steps=5", "batch=32",
                "progress=false", "threads=1", "encoder.channels=[4,8]", "encoder.feature_dim=16"]) == 0
    report = out.with_suffix(".json").read_text()
    assert "stop_f1" in report
    import envs.house

    env = envs.house.make(num_envs=1, resolution=32)
    cfg = OmegaConf.load("configs/policy/gru.yaml")
    cfg.encoder.update(channels=[4, 8], feature_dim=16, grid=4, goal=True, frozen=True, weights=str(out))
    policy = build(cfg, env.obs_space, env.act_space)
    saved = torch.load(out, weights_only=True)
    for key, value in policy.tokenizer.encoder.state_dict().items():
        torch.testing.assert_close(value, saved[key])
    assert policy.frozen_encoder and not any(p.requires_grad for p in policy.tokenizer.encoder.parameters())

    cfg.encoder.channels = [4, 16]
    with pytest.raises(ValueError, match="do not fit policy.encoder"):
        build(cfg, env.obs_space, env.act_space)


def test_unknown_weights_name_lists_the_shipped_ones():
    with pytest.raises(FileNotFoundError, match="house_cnn32"):
        weights_path("no_such_encoder")


@pytest.mark.parametrize("name", ["gru", "relic_small"])
def test_policies_keep_the_loaded_encoder_weights(name):
    import envs.house

    env = envs.house.make(num_envs=1, resolution=32)
    cfg = OmegaConf.load(f"configs/policy/{name}.yaml")
    cfg.encoder.update(grid=4, goal=True, frozen=True, weights="house_cnn32")
    policy = build(cfg, env.obs_space, env.act_space)
    shipped = torch.load(weights_path("house_cnn32"), weights_only=True)
    for key, value in policy.tokenizer.encoder.state_dict().items():
        torch.testing.assert_close(value, shipped[key], rtol=0, atol=0)


@pytest.mark.parametrize("arg, key", [("out=enc.txt", "out"), ("detour=2", "detour"), ("steps=0", "steps"),
                                      ("encoder.name=vit", "encoder.name"), ("encoder.goal=maybe", "encoder.goal")])
def test_pretrain_bad_config_fails_naming_the_key(tmp_path, capsys, arg, key):
    assert cli(["pretrain", f"out={tmp_path / 'enc.pt'}", arg]) == 2
    assert key in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # nothing written
