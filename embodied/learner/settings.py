"""The types of the trainer's config keys, registered in Hydra's ConfigStore (as habitat-lab does).

The values and their documentation live once, in configs/trainer/ppo_partial.yaml; this schema (no values of its
own) sits under it in ``embodied train``'s defaults list, so Hydra rejects ``trainer.epochs=two`` or an unknown
``trainer.*`` key at composition, naming the key, before anything starts.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omegaconf import MISSING


@dataclass
class TrainerSchema:
    name: str = MISSING
    num_envs: int = MISSING
    rollout_steps: int = MISSING
    update_every: int = MISSING
    total_steps: int = MISSING
    grad_context: Any = MISSING  # full | none | a positive number of steps
    encoder_grad: str = MISSING
    epochs: int = MISSING
    minibatches: int = MISSING
    lr: float = MISSING
    warmup_updates: int = MISSING
    lr_floor: float = MISSING
    clip: float = MISSING
    value_coef: float = MISSING
    entropy_coef: float = MISSING
    max_grad_norm: float = MISSING
    gamma: float = MISSING
    lam: float = MISSING
    reward_scale: float = MISSING
    normalize_advantages: bool = MISSING
    imitation_coef: float = MISSING
    imitation_steps: int = MISSING
    imitation_floor: float = MISSING
    imitation_teacher: str = MISSING
    imitation_focus: float = MISSING
    recall_coef: float = MISSING
    memory_dropout: float = MISSING
    device: str = MISSING
    torch_threads: Any = MISSING  # auto | a positive number
    update_threads: Any = MISSING  # 0 | auto | a positive number
    overlap_updates: Any = MISSING  # true | false | auto
    stats_window: int = MISSING
    checkpoint_every: int = MISSING
    keep_checkpoints: int = MISSING


def register() -> None:
    """Store the schema as ``schema/trainer`` (configs/train.yaml's defaults put it under ``trainer``)."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(group="schema", name="trainer", node=TrainerSchema)
