"""Training checkpoints: atomic, versioned, self-describing; and ``load_policy`` for evaluation.

A checkpoint is one ``torch.save`` file ``<run_dir>/checkpoints/ckpt-<env_steps>.pt`` holding a format
tag and version, the resolved config, the observation/action spaces, the policy weights, optimiser and
scheduler state, step counters and RNG states. It is written to a temp file and renamed into place, so
a crash never leaves a half-written checkpoint under a checkpoint name. It is read with
``weights_only=True`` (no arbitrary pickles) and checked before use: a truncated or foreign file fails
with :class:`CheckpointError` naming the file.
"""
from __future__ import annotations

import pickle
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from embodied.atomic import open_atomic

FORMAT = "embodied.train.checkpoint"
VERSION = 1
REQUIRED = ("format", "version", "config", "spaces", "policy", "optimizer", "scheduler", "counters", "rng")
_NAME = re.compile(r"ckpt-(\d+)\.pt$")


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used; the message names the file and what is wrong."""


def spaces_to_spec(spaces: Mapping[str, gymnasium.Space]) -> dict[str, dict[str, Any]]:
    """Gymnasium spaces as plain data (tensors, strings, ints) that ``weights_only`` loading accepts."""
    spec = {}
    for key, s in spaces.items():
        if isinstance(s, gymnasium.spaces.Discrete):
            spec[key] = {"type": "discrete", "n": int(s.n), "start": int(s.start)}
        elif isinstance(s, gymnasium.spaces.MultiDiscrete):
            spec[key] = {"type": "multi_discrete", "nvec": torch.from_numpy(np.array(s.nvec, np.int64))}
        elif isinstance(s, gymnasium.spaces.MultiBinary):
            spec[key] = {"type": "multi_binary", "n": int(s.n) if np.ndim(s.n) == 0 else [int(n) for n in s.n]}
        elif isinstance(s, gymnasium.spaces.Box):
            spec[key] = {"type": "box", "low": torch.from_numpy(np.array(s.low)),
                         "high": torch.from_numpy(np.array(s.high)), "dtype": np.dtype(s.dtype).name}
        else:
            raise TypeError(f"space {key!r} of type {type(s).__name__} cannot be stored in a checkpoint")
    return spec


def spaces_from_spec(spec: Mapping[str, Mapping[str, Any]]) -> dict[str, gymnasium.Space]:
    out: dict[str, gymnasium.Space] = {}
    for key, s in spec.items():
        if s["type"] == "discrete":
            out[key] = gymnasium.spaces.Discrete(s["n"], start=s["start"])
        elif s["type"] == "multi_discrete":
            out[key] = gymnasium.spaces.MultiDiscrete(s["nvec"].numpy())
        elif s["type"] == "multi_binary":
            out[key] = gymnasium.spaces.MultiBinary(s["n"])
        else:
            dtype = np.dtype(s["dtype"])
            out[key] = gymnasium.spaces.Box(s["low"].numpy().astype(dtype), s["high"].numpy().astype(dtype),
                                            dtype=dtype)
    return out


def checkpoint_dir(run_dir: str | Path) -> Path:
    return Path(run_dir) / "checkpoints"


def save(run_dir: str | Path, payload: Mapping[str, Any]) -> Path:
    """Write ``payload`` (without format fields) atomically as the checkpoint for its ``env_steps``."""
    folder = checkpoint_dir(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"ckpt-{int(payload['counters']['env_steps']):012d}.pt"
    data = {"format": FORMAT, "version": VERSION, **payload}
    if path.exists():
        read(path)  # an existing checkpoint under this name is only replaced if it is ours and whole
    with open_atomic(path, "wb") as f:
        torch.save(data, f)
    return path


def listing(run_dir: str | Path) -> list[tuple[int, Path]]:
    """``(env steps, file)`` of every checkpoint of a run, oldest first; fails if there is none."""
    folder = checkpoint_dir(run_dir)
    found = sorted((int(m.group(1)), p) for p in folder.glob("ckpt-*.pt") if (m := _NAME.search(p.name)))
    if not found:
        raise CheckpointError(f"no checkpoint (ckpt-*.pt) in {folder}")
    return found


def latest(run_dir: str | Path) -> Path:
    """The newest checkpoint of a run (by env steps)."""
    return listing(run_dir)[-1][1]


def latest_readable(run_dir: str | Path) -> Path:
    """The newest checkpoint of a run that loads; newer unreadable ones (a crash mid-copy, a bad disk) are
    skipped with a warning naming the file skipped and the one used."""
    found = listing(run_dir)
    folder = checkpoint_dir(run_dir)
    bad: list[str] = []
    for _, path in reversed(found):
        try:
            read(path)
        except CheckpointError as e:
            bad.append(str(e))
            continue
        for problem in bad:
            print(f"warning: {problem}; using {path} instead", file=sys.stderr)
        return path
    raise CheckpointError(f"no readable checkpoint in {folder}: " + "; ".join(bad))


def resolve(path: str | Path) -> Path:
    """A checkpoint file, or a run dir / its checkpoints dir (then its newest readable checkpoint)."""
    path = Path(path)
    if path.is_dir():
        return latest_readable(path.parent if path.name == "checkpoints" else path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    return path


def read(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load and validate a checkpoint file; raise :class:`CheckpointError` if truncated or foreign."""
    path = Path(path)
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, pickle.UnpicklingError) as e:  # corrupt/foreign
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated or not a torch file?): "
                              f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an embodied training checkpoint (format tag "
                              f"{data.get('format') if isinstance(data, dict) else type(data).__name__!r}, "
                              f"expected {FORMAT!r})")
    if data.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {data.get('version')!r}; this code reads {VERSION}")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise CheckpointError(f"{path} lacks {missing}")
    return data


# Trainer keys added since the first checkpoints, with the values that run as those runs did: an imitation weight
# that decays to zero, no recall loss, no memory dropout, the gradient over the whole context and from every frame,
# one learner thread for acting and updates alike, updates in line.
TRAINER_BEFORE = {"imitation_floor": 0.0, "recall_coef": 0.0, "memory_dropout": 0.0, "grad_context": "full",
                  "encoder_grad": "full", "torch_threads": 1, "update_threads": 0, "overlap_updates": False}


def config_of(data: Mapping[str, Any]) -> DictConfig:
    """The run's config; one written before the observation-space tokenizer gets that tokenizer's keys with
    the values that build the same network (goal and GPS widths were then separate keys), one from before
    ``policy.cell`` its GRU, one from before the recurrent policy's ``inter_episode`` its state over the trial,
    one from before ``episodic_core`` one cell (the transformer: one attention per layer), one from before
    ``positions`` RoPE over the episode index; trainer keys added since get their ``TRAINER_BEFORE`` values."""
    cfg = OmegaConf.create(data["config"])
    policy = cfg.get("policy")
    if policy is not None and "vector_dim" not in policy and "goal_dim" in policy:
        legacy = {"obs_keys": None, "ignore_keys": [], "vector_dim": policy.pop("goal_dim"), "discrete_dim": 32,
                  "reward_input": False}
        policy.pop("gps_dim", None)
        policy.merge_with(legacy)
    if policy is not None and policy.get("name") == "gru":
        if "cell" not in policy:
            policy.cell = "gru"  # written before the recurrent policy had a choice of cell
        if "inter_episode" not in policy:
            policy.inter_episode = True  # written before the recurrent state could restart every episode
    if policy is not None and "episodic_core" not in policy:
        policy.episodic_core = False  # written before the policy could have an episodic core
    if policy is not None and policy.get("name") == "transformer" and "positions" not in policy:
        policy.positions = "episode"  # written before the attentions could go without positions
    trainer = cfg.get("trainer")
    if trainer is not None:
        for key, value in TRAINER_BEFORE.items():
            if key not in trainer:
                trainer[key] = value
    return cfg


def _build(file: Path, data: Mapping[str, Any], policy_cfg: DictConfig, device: str | torch.device,
           memory_may_be_new: bool = False):
    """The policy ``policy_cfg`` builds on the checkpoint's spaces, with the checkpoint's weights loaded;
    ``memory_may_be_new``: the weights may lack the policy's ``memory_parameters`` (those keep their init)."""
    from embodied.policy import build as build_policy

    spaces = spaces_from_spec(data["spaces"])
    obs_space = {k[4:]: v for k, v in spaces.items() if k.startswith("obs/")}
    act_space = {k[4:]: v for k, v in spaces.items() if k.startswith("act/")}
    policy = build_policy(policy_cfg, obs_space, act_space).to(device)
    fails = f"{file}: weights do not fit policy {policy_cfg.get('name')!r}"
    try:
        missing, unexpected = policy.load_state_dict(data["policy"], strict=not memory_may_be_new)
    except RuntimeError as e:
        raise CheckpointError(f"{fails}: {e}") from None
    missing = sorted(set(missing) - policy.memory_parameters())
    if missing or unexpected:
        raise CheckpointError(f"{fails}: missing keys {missing}, unexpected keys {sorted(unexpected)}")
    return policy


def load_policy(path: str | Path, device: str | torch.device = "cpu"):
    """``(policy, cfg)`` from a checkpoint file or run dir, weights loaded, in eval mode, for evaluation."""
    file = resolve(path)
    data = read(file, map_location=device)
    cfg = config_of(data)
    policy = _build(file, data, cfg.policy, device)
    policy.eval()
    return policy, cfg


def initial_weights(path: str | Path, policy_cfg: DictConfig) -> dict[str, torch.Tensor]:
    """The policy weights of a checkpoint (file or run dir) for a new run to start from (``init_from``: a
    curriculum stage, fine-tuning), checked to fit the policy ``policy_cfg`` builds: settings that only change
    masking (``policy.inter_episode``) may differ from the checkpoint's, shapes may not. A memoryless run's
    weights can start a policy with an episodic core (``policy.episodic_core``): its memory path starts at zero
    output, so the new run begins as the run it starts from."""
    file = resolve(path)
    data = read(file)
    held = config_of(data).policy.get("name")
    if held != policy_cfg.get("name"):
        raise CheckpointError(f"{file} holds a {held!r} policy; this run builds {policy_cfg.get('name')!r} "
                              "(choose the policy= group that run was trained with)")
    return _build(file, data, policy_cfg, "cpu", memory_may_be_new=True).state_dict()
