"""Validated settings of the policies, read once from ``cfg.policy`` at start-up.

Every bad value fails here with a ``ConfigError`` that names its key (``policy.<key>``) and what is allowed;
the settings read through :class:`~embodied.config.Reads`, so a key set that they do not read can be named
too. ``TokenSettings`` (the per-step token every policy builds from the observation space) is shared by the
transformer and the GRU.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import gymnasium
from omegaconf import DictConfig, OmegaConf

from embodied.config import ConfigError, Reads, check, choice, positive_int
from embodied.kernels import BACKENDS
from embodied.policy.attention import SINKS
from embodied.policy.encoders import ENCODERS

IS_BOOL = (lambda v: isinstance(v, bool), "true or false")  # check()'s predicate and message for a boolean key
POSITIONS = ("episode", "none")  # the transformer's attentions: RoPE over the episode index, or no positions


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
class TokenSettings:
    """What goes into the per-step token (``embodied/policy/tokens.py``) and how wide each part is."""
    obs_keys: list[str] | None  # observation keys to use (None: every key of the space)
    ignore_keys: list[str]
    vector_dim: int
    discrete_dim: int
    action_dim: int
    reward_input: bool
    max_episode_steps: int
    encoder: EncoderSettings

    @classmethod
    def from_config(cls, root: Reads) -> TokenSettings:
        """From ``root.policy`` (a config with a ``policy`` node)."""
        key_list = (lambda v: v is None or (isinstance(v, Sequence) and not isinstance(v, str)
                                         and all(isinstance(k, str) for k in v)),
                    "null or a list of observation key names")
        enc = EncoderSettings(
            name=choice(root, "policy.encoder.name", ENCODERS),
            feature_dim=positive_int(root, "policy.encoder.feature_dim"),
            use_depth=check(root, "policy.encoder.use_depth", *IS_BOOL),
            channels=list(check(root, "policy.encoder.channels",
                                lambda v: len(v) > 0 and all(isinstance(c, int) and c > 0 for c in v),
                                "a non-empty list of positive integers")),
            norm=choice(root, "policy.encoder.norm", ("group", "batch")),
            frozen=check(root, "policy.encoder.frozen", *IS_BOOL),
            weights=root.policy.encoder.get("weights"),
            grid=positive_int(root, "policy.encoder.grid"),
            goal=check(root, "policy.encoder.goal", *IS_BOOL))
        keys = check(root, "policy.obs_keys", *key_list)
        return cls(obs_keys=None if keys is None else list(keys),
                   ignore_keys=list(check(root, "policy.ignore_keys", *key_list) or []),
                   **{k: positive_int(root, f"policy.{k}") for k in
                      ("vector_dim", "discrete_dim", "action_dim", "max_episode_steps")},
                   reward_input=check(root, "policy.reward_input", *IS_BOOL), encoder=enc)


@dataclass(frozen=True)
class TransformerSettings:
    d_model: int
    layers: int
    heads: int
    head_dim: int
    mlp_hidden: int
    sink: str
    inter_episode: bool
    episodic_core: bool
    positions: str
    rope_theta: float
    attention_backend: str | None
    tokens: TokenSettings
    num_actions: int

    @classmethod
    def from_config(cls, cfg: DictConfig | dict | Reads, act_space: dict[str, gymnasium.Space]) -> TransformerSettings:
        root = policy_root(cfg)
        ints = {k: positive_int(root, f"policy.{k}") for k in ("d_model", "layers", "heads", "head_dim", "mlp_hidden")}
        backend = choice(root, "policy.attention_backend", BACKENDS)
        return cls(**ints, sink=choice(root, "policy.sink", SINKS),
                   inter_episode=check(root, "policy.inter_episode", *IS_BOOL),
                   episodic_core=check(root, "policy.episodic_core", *IS_BOOL),
                   positions=choice(root, "policy.positions", POSITIONS),
                   rope_theta=float(check(root, "policy.rope_theta",
                                          lambda v: isinstance(v, (int, float)) and v > 1, "a number > 1")),
                   attention_backend=None if backend == "auto" else backend, tokens=TokenSettings.from_config(root),
                   num_actions=num_actions(act_space))


CELLS = ("gru", "lstm")  # the recurrent policy's cell (configs/policy/gru.yaml)


@dataclass(frozen=True)
class GRUSettings:
    hidden: int
    layers: int
    token_dim: int
    cell: str
    inter_episode: bool
    episodic_core: bool
    tokens: TokenSettings

    @classmethod
    def from_config(cls, cfg: DictConfig | dict | Reads) -> GRUSettings:
        root = policy_root(cfg)
        return cls(**{k: positive_int(root, f"policy.{k}") for k in ("hidden", "layers", "token_dim")},
                   cell=choice(root, "policy.cell", CELLS),
                   inter_episode=check(root, "policy.inter_episode", *IS_BOOL),
                   episodic_core=check(root, "policy.episodic_core", *IS_BOOL),
                   tokens=TokenSettings.from_config(root))


def policy_root(cfg: DictConfig | dict | Reads) -> Reads:
    """``{"policy": cfg}`` resolved, recording the keys read, so that errors name keys as ``policy.<key>``
    (a root given is returned as it is)."""
    if isinstance(cfg, Reads):
        return cfg
    return Reads({"policy": OmegaConf.to_container(OmegaConf.create(cfg), resolve=True)})


def num_actions(act_space: dict[str, gymnasium.Space]) -> int:
    space = act_space.get("action")
    if not isinstance(space, gymnasium.spaces.Discrete):
        raise ConfigError(f"act_space['action'] is {space!r}; the policies need a Discrete action space")
    return int(space.n)
