"""The step token is built from whatever each backend's observation space holds, for both policies."""
from __future__ import annotations

import gymnasium
import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from policy_inputs import CONFIGS
from embodied.config import ConfigError
from embodied.policy import build
from envs.contract import flag_spaces

SMALL = {"relic_small": {"d_model": 32, "heads": 2, "head_dim": 16, "mlp_hidden": 48,
                         "encoder": {"feature_dim": 16, "channels": [4, 8]}},
         "gru": {"hidden": 16, "token_dim": 16, "encoder": {"feature_dim": 16, "channels": [4, 8]}}}


def _house():
    import envs

    env = envs.make("house", num_envs=1, resolution=16)
    return env.obs_space, env.act_space


def _crafter():
    import envs

    env = envs.make("crafter", num_envs=1, size=16)
    return env.obs_space, env.act_space


def _darkroom():
    import envs

    env = envs.make("darkroom", num_envs=1)
    return env.obs_space, env.act_space


def _gym():
    import envs

    env = envs.make("gym", num_envs=1, id="CartPole-v1")
    return env.obs_space, env.act_space


def _habitat():
    from envs.habitat import task

    return {**task.observation_space(16, 6, 10.0), **flag_spaces()}, task.action_space()


def _minedojo():
    from envs.minedojo.actions import RL_ACTIONS
    from envs.minedojo.observation import observation_space

    return ({**observation_space(16, 24), **flag_spaces()},
            {"action": gymnasium.spaces.Discrete(len(RL_ACTIONS))})


BACKENDS = {"house": _house, "crafter": _crafter, "darkroom": _darkroom, "gym": _gym, "habitat": _habitat,
            "minedojo": _minedojo}


def _policy(name: str, obs_space, act_space, seed: int, **overrides):
    cfg = OmegaConf.load(CONFIGS / f"{name}.yaml")
    cfg.merge_with(OmegaConf.create({**SMALL[name], **overrides}))
    torch.manual_seed(seed)
    return build(cfg, obs_space, act_space).eval()


def _sequence(obs_space, act_space, b: int, t: int, seed: int) -> dict[str, torch.Tensor]:
    """``(b, t)`` observations sampled from the spaces, with episodes of 5 steps in one trial."""
    for i, space in enumerate(obs_space.values()):
        space.seed(seed + i)
    steps = [[{k: s.sample() for k, s in obs_space.items()} for _ in range(t)] for _ in range(b)]
    out = {k: torch.as_tensor(np.stack([np.stack([np.asarray(o[k]) for o in row]) for row in steps]))
           for k in obs_space}
    idx = torch.arange(t).expand(b, t)
    out.update(is_first=idx % 5 == 0, is_trial_first=idx == 0, is_last=torch.zeros(b, t, dtype=torch.bool),
               is_terminal=torch.zeros(b, t, dtype=torch.bool), step_index=idx % 5, episode_index=idx // 5)
    g = torch.Generator().manual_seed(seed)
    out["prev_action"] = torch.randint(0, act_space["action"].n, (b, t), generator=g)
    out["prev_reward"] = torch.randn(b, t, generator=g)
    for k, v in out.items():
        if v.dtype == torch.float64:
            out[k] = v.float()
        if v.dtype.is_floating_point:  # unbounded Boxes sample huge values; keep the outputs finite
            out[k] = out[k].clamp(-10, 10)
    return out


@pytest.mark.parametrize("policy", ["relic_small", "gru", "gru:lstm"])
@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_every_backend_trains_every_policy_from_its_space(backend, policy, seed):
    obs_space, act_space = BACKENDS[backend]()
    name, _, cell = policy.partition(":")
    net = _policy(name, obs_space, act_space, seed, reward_input=True, **({"cell": cell} if cell else {}))
    inputs = _sequence(obs_space, act_space, 2, 8, seed)
    logits, values = net(inputs)
    assert logits.shape == (2, 8, act_space["action"].n) and torch.isfinite(logits).all()
    # step-by-step inference gives what the causal pass gives
    state = net.initial_state(2, 8)
    with torch.no_grad():
        for i in range(8):
            step_logits, step_values, state = net.step({k: v[:, i] for k, v in inputs.items()}, state)
            torch.testing.assert_close(step_logits, logits[:, i], atol=1e-4, rtol=1e-4)
            torch.testing.assert_close(step_values, values[:, i], atol=1e-4, rtol=1e-4)
    # every observation key and the previous reward reach the output; a gradient reaches every input layer
    for key in [*net.tokenizer.keys, "prev_reward"]:
        changed = dict(inputs)
        other = _sequence(obs_space, act_space, 2, 8, seed + 1000)[key]
        changed[key] = other
        with torch.no_grad():
            assert not torch.allclose(net(changed)[0][:, 1:], logits[:, 1:].detach()), key
    (logits.sum() + values.sum()).backward()
    assert all(p.grad is not None for name, p in net.tokenizer.named_parameters()
               if p.requires_grad and not name.startswith("step_embed")), backend


def test_ignored_keys_do_not_reach_the_output(seed):
    obs_space, act_space = _house()
    net = _policy("relic_small", obs_space, act_space, seed, ignore_keys=["gps"])
    assert "gps" not in net.tokenizer.keys and "goal" in net.tokenizer.keys
    inputs = _sequence(obs_space, act_space, 2, 6, seed)
    changed = {**inputs, "gps": inputs["gps"] + 5}
    with torch.no_grad():
        torch.testing.assert_close(net(inputs), net(changed))
    only = _policy("gru", obs_space, act_space, seed, obs_keys=["goal", "gps"])
    assert only.tokenizer.keys == ["goal", "gps"] and only.encoder is None


def test_without_reward_input_the_reward_is_not_read(seed):
    obs_space, act_space = _house()
    net = _policy("gru", obs_space, act_space, seed)
    inputs = _sequence(obs_space, act_space, 2, 6, seed)
    with torch.no_grad():
        torch.testing.assert_close(net(inputs), net({**inputs, "prev_reward": inputs["prev_reward"] + 3}))


@pytest.mark.parametrize("space,match", [
    (gymnasium.spaces.Text(5), "cannot read"),
    (gymnasium.spaces.Tuple([gymnasium.spaces.Discrete(2)]), "cannot read"),
])
def test_unreadable_spaces_are_named(space, match):
    obs_space, act_space = _house()
    with pytest.raises(ConfigError, match=f"observation 'note' has space .*{match}.*policy.ignore_keys"):
        _policy("gru", {**obs_space, "note": space}, act_space, 0)
    net = _policy("gru", {**obs_space, "note": space}, act_space, 0, ignore_keys=["note"])
    assert "note" not in net.tokenizer.keys
