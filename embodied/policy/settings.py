"""Validated settings of the transformer policy, read once from ``cfg.policy`` at start-up.

Every bad value fails here with a ``ConfigError`` that names its key (``policy.<key>``) and what is allowed.
"""
from __future__ import annotations

from dataclasses import dataclass

import gymnasium
from omegaconf import DictConfig, OmegaConf

from embodied.config import ConfigError, check, choice, positive_int
from embodied.kernels import BACKENDS
from embodied.policy.attention import SINKS
from embodied.policy.encoders import ENCODERS


@dataclass(frozen=True)
class EncoderSettings:
    name: str
    feature_dim: int
    use_depth: bool
    channels: list[int]
    norm: str
    frozen: bool
    weights: str | None
    grid: int
    goal: bool


@dataclass(frozen=True)
class TransformerSettings:
    d_model: int
    layers: int
    heads: int
    head_dim: int
    mlp_hidden: int
    sink: str
    inter_episode: bool
    rope_theta: float
    max_episode_steps: int
    goal_dim: int
    gps_dim: int
    action_dim: int
    attention_backend: str | None
    encoder: EncoderSettings
    goal_size: int
    num_actions: int

    @classmethod
    def from_config(cls, cfg: DictConfig | dict, obs_space: dict[str, gymnasium.Space],
                    act_space: dict[str, gymnasium.Space]) -> TransformerSettings:
        root = OmegaConf.create({"policy": OmegaConf.to_container(OmegaConf.create(cfg), resolve=True)})
        ints = {k: positive_int(root, f"policy.{k}") for k in
                ("d_model", "layers", "heads", "head_dim", "mlp_hidden", "max_episode_steps",
                 "goal_dim", "gps_dim", "action_dim")}
        is_bool = (lambda v: isinstance(v, bool), "true or false")
        enc = EncoderSettings(
            name=choice(root, "policy.encoder.name", ENCODERS),
            feature_dim=positive_int(root, "policy.encoder.feature_dim"),
            use_depth=check(root, "policy.encoder.use_depth", *is_bool),
            channels=list(check(root, "policy.encoder.channels",
                                lambda v: len(v) > 0 and all(isinstance(c, int) and c > 0 for c in v),
                                "a non-empty list of positive integers")),
            norm=choice(root, "policy.encoder.norm", ("group", "batch")),
            frozen=check(root, "policy.encoder.frozen", *is_bool),
            weights=OmegaConf.select(root, "policy.encoder.weights", default=None),
            grid=positive_int(root, "policy.encoder.grid") if "grid" in root.policy.encoder else 1,
            goal=check(root, "policy.encoder.goal", *is_bool) if "goal" in root.policy.encoder else False)
        backend = choice(root, "policy.attention_backend", BACKENDS)
        return cls(**ints, sink=choice(root, "policy.sink", SINKS),
                   inter_episode=check(root, "policy.inter_episode", *is_bool),
                   rope_theta=float(check(root, "policy.rope_theta",
                                          lambda v: isinstance(v, (int, float)) and v > 1, "a number > 1")),
                   attention_backend=None if backend == "auto" else backend, encoder=enc,
                   goal_size=_goal_size(obs_space, enc.use_depth), num_actions=_num_actions(act_space))


def _goal_size(obs_space: dict[str, gymnasium.Space], use_depth: bool) -> int:
    need = ["rgb", "goal", "gps"] + (["depth"] if use_depth else [])
    missing = [k for k in need if k not in obs_space]
    if missing:
        raise ConfigError(f"the observation space lacks {missing} needed by the transformer policy "
                          f"(has {sorted(obs_space)}); set policy.encoder.use_depth=false if there is no depth")
    goal = obs_space["goal"]
    if len(goal.shape) != 1:
        raise ConfigError(f"obs_space['goal'] has shape {goal.shape}; the policy expects a one-hot vector (G,)")
    return int(goal.shape[0])


def _num_actions(act_space: dict[str, gymnasium.Space]) -> int:
    space = act_space.get("action")
    if not isinstance(space, gymnasium.spaces.Discrete):
        raise ConfigError(f"act_space['action'] is {space!r}; the policy needs a Discrete action space")
    return int(space.n)
