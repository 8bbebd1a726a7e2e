"""What an env worker does to each observation before it travels to the learner, in one place.

Two transforms, both optional: a *teacher* (the env's oracle or one of its scripted references) adds its
action for the new state under ``ORACLE_KEY`` (an imitation label: it rides beside the observation and
never reaches the policy; the trainer splits it off with :func:`split_label`) and, with a ``focus``, the
label's weight under ``WEIGHT_KEY`` (``focus`` where the teacher's memory changes its action: its forgetful
twin would act otherwise; 1 elsewhere) and, with ``recall``, what its memory holds about the goal under
``RECALL_KEY`` (the target of the learner's auxiliary recall loss), and a *frozen encoder*
replaces the frames of its image keys by its features under ``FEATURE_KEY``, so the encoding runs in
parallel in the workers and only small vectors travel. :func:`stored_space` is the space the learner then
stores. One teacher per env batch: a teacher with a memory (a map of the trial) follows its own batch.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium
import numpy as np

ORACLE_KEY = "oracle_action"  # the teacher's label beside the observations, never a policy input
WEIGHT_KEY = "oracle_weight"  # the label's weight in the imitation term (only with a focus)
RECALL_KEY = "recall"  # the teacher's memory of the goal: valid flag, then the target's offsets (only with recall)
RECALL_DIM = 3  # the recall label's width: 1 (valid) + 2 (offsets)
LABEL_KEYS = (ORACLE_KEY, WEIGHT_KEY, RECALL_KEY)


@dataclasses.dataclass(frozen=True)
class Teacher:
    """Who labels the imitation term, and how much its memory-dependent labels weigh (``focus``: the steps
    where the teacher acts otherwise than its forgetful twin; 1 = all steps alike); ``recall``: it also tells
    what its memory holds about the goal (a teacher with a ``recall(env)`` method, e.g. the house's
    explorer_memory)."""
    name: str
    focus: float = 1.0
    recall: bool = False


class ObservationTransforms:
    """The transforms of one worker's env batches (``envs``, one per slot)."""

    def __init__(self, envs: Sequence[Any], seeds: Sequence[int], teacher: str | Teacher | None = None,
                 backend: str = "house", encoder: Mapping[str, Any] | None = None):
        self.teachers = self.twins = None
        self.recall = False
        if teacher:
            from embodied.rollout.actor import make_actor

            teacher = Teacher(teacher) if isinstance(teacher, str) else teacher
            if teacher.name == "oracle" and not hasattr(envs[0], "oracle_action"):
                raise ValueError(f"env {backend!r} has no oracle_action(); the imitation term "
                                 "(trainer.imitation_coef > 0) needs one (the house env has it)")
            self.teachers = [make_actor(teacher.name, seed=int(seed), backend=backend) for seed in seeds]
            self.focus = float(teacher.focus)
            if self.focus != 1.0:
                twin = forgetful_twin(self.teachers[0])
                self.twins = [make_actor(twin, seed=int(seed), backend=backend) for seed in seeds]
            self.recall = teacher.recall
            if self.recall and not hasattr(self.teachers[0], "recall"):
                raise ValueError(f"teacher {teacher.name!r} has no memory to recall the goal from "
                                 "(trainer.recall_coef > 0 needs one, e.g. the house's explorer_memory)")
        self.encoder = None
        if encoder is not None:
            self.use_encoder(encoder)

    def use_encoder(self, replica: Mapping[str, Any]) -> None:
        """From now on replace frames by the features of this frozen encoder (``VisualEncoder.replica()``)."""
        import torch

        from embodied.policy.encoders import VisualEncoder

        torch.set_num_threads(1)
        self.encoder = VisualEncoder.from_replica(replica)

    def commit(self, slot: int, actions: np.ndarray, reward: np.ndarray) -> None:
        """Tell the teacher of ``slot`` what the agent did and earned (a teacher that copies the agent needs it)."""
        if self.teachers:
            self.teachers[slot].commit(actions, reward)

    def __call__(self, slot: int, env: Any, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """``obs`` of ``env`` (the batch in ``slot``) as it travels: labelled, frames replaced."""
        if self.teachers:
            label = self.teachers[slot].act(env, obs)
            obs = {**obs, ORACLE_KEY: label}
            if self.twins:
                differs = label != self.twins[slot].act(env, obs)
                obs[WEIGHT_KEY] = np.where(differs, self.focus, 1.0).astype(np.float32)
            if self.recall:
                obs[RECALL_KEY] = self.teachers[slot].recall(env)
        if self.encoder is not None:
            from embodied.policy.encoders import FEATURE_KEY

            features = self.encoder.features(obs)
            obs = {**{k: v for k, v in obs.items() if k not in self.encoder.image_keys}, FEATURE_KEY: features}
        return obs


def stored_space(obs_space: Mapping[str, gymnasium.Space], encoder: Any | None) -> dict[str, gymnasium.Space]:
    """The space of what arrives from the workers: ``obs_space`` with ``encoder``'s image keys (a frozen
    :class:`~embodied.policy.encoders.VisualEncoder`, or None) replaced by its features."""
    if encoder is None:
        return dict(obs_space)
    from embodied.policy.encoders import FEATURE_KEY

    return {**{k: v for k, v in obs_space.items() if k not in encoder.image_keys},
            FEATURE_KEY: gymnasium.spaces.Box(-np.inf, np.inf, (encoder.feature_dim,), np.float32)}


def forgetful_twin(teacher: Any) -> str:
    """The name of the scripted agent that acts as ``teacher`` would without its memory (``forgetful``)."""
    twin = getattr(teacher, "forgetful", None)
    if twin is None:
        raise ValueError(f"teacher {getattr(teacher, 'name', teacher)!r} has no forgetful twin to tell its "
                         "memory-dependent labels apart (trainer.imitation_focus != 1 needs one, e.g. the house's "
                         "explorer_memory)")
    return twin


def split_label(obs: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The observation without the teacher's labels, and those labels by key (``LABEL_KEYS``; absent ones left out)."""
    obs = dict(obs)
    return obs, {k: obs.pop(k) for k in LABEL_KEYS if k in obs}
