"""Factory, config validation, encoders, and the gradients of the sink parameters."""
from __future__ import annotations

import copy

import pytest
import torch
from omegaconf import OmegaConf

from policy_inputs import CONFIGS, at, small_policy, spaces, trial_batch
from embodied.config import ConfigError
from embodied.config import load
from embodied.policy import REGISTRY, build
from embodied.policy.encoders import FEATURE_KEY, VisualEncoder
from embodied.policy.resnet import ResNet18


def test_registry_names_the_gru_baseline():
    assert REGISTRY["gru"] == "embodied.policy.gru:GRUPolicy"
    assert REGISTRY["transformer"] == "embodied.policy.transformer:SinkKVTransformer"


def test_reference_config_has_the_reference_sizes():
    cfg = load("policy/relic").policy  # composed: relic.yaml extends relic_small.yaml
    policy = build(cfg, *spaces(64))
    s = policy.settings
    assert (s.layers, s.heads, s.d_model, s.head_dim, s.sink) == (4, 8, 256, 32, "k")
    inputs = {k: v[:, :3] for k, v in trial_batch(1, 3, 0).items()}
    inputs["rgb"] = torch.randint(0, 256, (1, 3, 64, 64, 3), dtype=torch.uint8)
    inputs["depth"] = torch.rand(1, 3, 64, 64, 1)
    with torch.no_grad():
        logits, values = policy(inputs)
    assert logits.shape == (1, 3, 6) and values.shape == (1, 3)
    assert policy.cache_bytes_per_step() == 2 * 4 * 8 * 32 * 4  # 8 KiB per env-step in fp32
    assert policy.cache_bytes_per_step(torch.bfloat16) * 65536 == 256 * 2**20  # 64k steps in bf16


@pytest.mark.parametrize("key,value,match", [
    ("sink", "sinkhorn", "policy.sink='sinkhorn' is not allowed; allowed values"),
    ("heads", 0, "policy.heads=0 is invalid; expected a positive integer"),
    ("inter_episode", "yes", "policy.inter_episode"),
    ("episodic_core", 1, "policy.episodic_core=1 is invalid"),
    ("encoder", {"name": "vit"}, "policy.encoder.name='vit'"),
    ("attention_backend", "cudnn", "policy.attention_backend"),
    ("name", "lstm", "policy.name='lstm' is not allowed"),
])
def test_bad_config_values_name_their_key(key, value, match):
    cfg = OmegaConf.load(CONFIGS / "relic_small.yaml")
    cfg.merge_with(OmegaConf.create({key: value}))
    with pytest.raises(ConfigError, match=match.replace("(", r"\(").replace("[", r"\[")):
        build(cfg, *spaces())


def test_unknown_input_keys_are_reported():
    cfg = OmegaConf.load(CONFIGS / "relic_small.yaml")
    cfg.obs_keys = ["rgb", "compass"]
    with pytest.raises(ConfigError, match=r"policy.obs_keys names \['compass'\], not in the env's observation space"):
        build(cfg, *spaces())


def test_resnet18_has_the_published_parameter_count():
    # ResNet-18 without its classifier: 11,176,512 parameters (BatchNorm and GroupNorm both have 2 per channel).
    assert sum(p.numel() for p in ResNet18(3, "batch").parameters()) == 11_176_512
    assert sum(p.numel() for p in ResNet18(3, "group").parameters()) == 11_176_512
    assert ResNet18(4)(torch.rand(2, 4, 64, 64)).shape == (2, 512)


def test_frozen_encoder_features_replace_frames(seed):
    policy = small_policy(seed, encoder={"frozen": True})
    policy.train()
    assert policy.frozen_encoder and not policy.encoder.training
    assert not any(p.requires_grad for p in policy.encoder.parameters())
    inputs = trial_batch(2, 10, seed)
    replica = type(policy.encoder).from_replica(policy.encoder.replica())  # as a worker has it
    feats = torch.as_tensor(replica.features({k: v.numpy() for k, v in inputs.items()}))
    stored = {k: v for k, v in inputs.items() if k not in ("rgb", "depth")} | {FEATURE_KEY: feats}
    logits, values = policy(inputs)
    logits2, values2 = policy(stored)
    torch.testing.assert_close((logits, values), (logits2, values2), atol=1e-6, rtol=1e-6)
    (logits.sum() + values.sum()).backward()
    assert policy.tokenizer.proj.weight.grad is not None


def _finite_difference_check(policy, param: torch.nn.Parameter, inputs, n_coords: int = 4):
    weights = torch.randn(inputs["step_index"].shape + (policy.num_actions + 1,), dtype=torch.float64)

    def loss():
        logits, values = policy(inputs)
        return (torch.cat([logits, values[..., None]], -1).double() * weights).sum()

    (grad,) = torch.autograd.grad(loss(), [param])
    flat = param.data.view(-1)
    for i in torch.randperm(flat.numel())[:n_coords].tolist():
        keep = flat[i].item()
        with torch.no_grad():
            flat[i] = keep + 1e-6
            up = loss().item()
            flat[i] = keep - 1e-6
            down = loss().item()
            flat[i] = keep
        numeric = (up - down) / 2e-6
        assert abs(numeric - grad.view(-1)[i].item()) <= 1e-6 * max(1.0, abs(numeric)), (i, numeric, grad.view(-1)[i])


@pytest.mark.parametrize("sink", ["kv", "token"])
def test_sink_parameter_gradients(sink, seed):
    """Autograd gradients of the sink parameters, through the CPU attention path, vs finite differences."""
    policy = small_policy(seed, sink=sink).double()
    inputs = trial_batch(2, 12, seed)
    attn = policy.blocks[0].attn
    params = [attn.k_sink, attn.v_sink] if sink == "kv" else [attn.sink_token]
    for param in params:
        _finite_difference_check(policy, param, inputs)


def test_step_resets_only_envs_starting_a_trial(seed):
    policy = small_policy(seed)
    inputs = trial_batch(2, 6, seed, max_episode=100)
    # one episode per env over the six steps: only the forced trial start below may reset a cache
    inputs["is_first"][:, 1:] = inputs["is_trial_first"][:, 1:] = False
    inputs["step_index"], inputs["episode_index"] = torch.arange(6).expand(2, 6), torch.zeros(2, 6, dtype=torch.long)
    state = policy.initial_state(2, 16)
    with torch.no_grad():
        for i in range(5):
            policy.step(at(inputs, i), state)
        step = at(inputs, 5)
        step["is_trial_first"] = torch.tensor([True, False])
        policy.step(step, state)
    assert state.lengths.tolist() == [1, 6]


@pytest.mark.parametrize("trial,size", [(0, 8), (1, 8), (2, 8), (3, 16), (4, 12)])
def test_goal_conditioned_cnn_matches_its_definition(trial, size):
    """The float32 encoder against the plain formula in float64: uint8 channels / 255 and float channels stacked,
    conv -> ReLU -> x * (1 + scale) + shift per layer, adaptive average pool, projection; features and every
    parameter's gradient (the reference for any faster arrangement of the same arithmetic). Frames of 8, 16 and 12
    px leave maps of 2, 4 and 3 px for the 2 x 2 grid: no pool, a plain average pool, the adaptive pool."""
    g = torch.Generator().manual_seed(trial)
    enc = VisualEncoder("cnn", 8, {"rgb": 3, "depth": 1}, [4, 6], grid=2, goal_size=5)
    with torch.no_grad():
        for p in enc.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    ref = copy.deepcopy(enc).double()
    lead = (2, 3)
    rgb = torch.randint(0, 256, (*lead, size, size, 3), generator=g, dtype=torch.uint8)
    depth = torch.rand((*lead, size, size, 1), generator=g)
    goal = torch.nn.functional.one_hot(torch.randint(0, 5, lead, generator=g), 5).float()
    weights = torch.randn((*lead, 8), generator=g, dtype=torch.float64)

    def reference():
        x = torch.cat([rgb.double() / 255, depth.double()], -1).reshape(-1, size, size, 4).permute(0, 3, 1, 2)
        film = ref.backbone.film(goal.double().reshape(-1, 5))
        off = 0
        for conv in ref.backbone.net[::2]:
            c = conv.out_channels
            scale, shift = film[:, off:off + c, None, None], film[:, off + c:off + 2 * c, None, None]
            x = torch.relu(conv(x)) * (1 + scale) + shift
            off += 2 * c
        return ref.proj(torch.nn.functional.adaptive_avg_pool2d(x, 2).flatten(1)).reshape(*lead, 8)

    want = reference()
    want_grads = torch.autograd.grad((want * weights).sum(), list(ref.parameters()))
    got = enc({"rgb": rgb, "depth": depth}, goal)
    got_grads = torch.autograd.grad((got.double() * weights).sum(), list(enc.parameters()))
    torch.testing.assert_close(got.double(), want, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close([x.double() for x in got_grads], list(want_grads), rtol=1e-4, atol=1e-5)
