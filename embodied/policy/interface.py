"""The policy interface shared by the learner, the rollout workers and evaluation.

A policy maps one token per step to action logits and a value. It is used two ways:
- ``step``: incremental inference, one new step per env, with recurrent ``state`` (a KV cache for the
  transformer, a hidden vector for the GRU) that spans the whole trial;
- ``forward``: a whole sequence of steps per env at once (training), causal over the sequence.
Both must give the same logits and values for the same inputs.

Inputs are dicts of tensors. ``step`` takes shapes ``(B, ...)``, ``forward`` takes ``(B, T, ...)``.
Keys: the env observation keys (whatever its space holds, e.g. ``rgb`` uint8 HxWx3, ``goal`` one-hot,
Darkroom's ``position``; plus the contract's ``episode_index``, ``step_index``, ``is_first``,
``is_trial_first``), ``prev_action`` (int64, the action taken before this step) and ``prev_reward``
(float, the reward that action earned); both are ignored at the start of a trial. In training, ``memory_cut``
(bool, constant over a trial) marks the trials in which the policy's memory of earlier episodes is cut as with
``policy.inter_episode: false`` (``trainer.memory_dropout``).
"""
from __future__ import annotations

import abc
from typing import Any, NamedTuple

import torch
from torch import nn

from embodied.policy.encoders import VisualEncoder

Batch = dict[str, torch.Tensor]
MEMORY_CUT_KEY = "memory_cut"


def episode_restarts(inputs: Batch, inter_episode: bool) -> torch.Tensor | None:
    """Where a policy's memory must start afresh although the trial goes on: every episode's first step without
    inter-episode memory, and the episodes' first steps of the trials marked ``memory_cut``; None: nowhere."""
    if inter_episode and MEMORY_CUT_KEY not in inputs:
        return None
    if "is_first" not in inputs:
        raise KeyError("policy.inter_episode: false, policy.episodic_core and trainer.memory_dropout need the "
                       "'is_first' flags in the policy inputs")
    first = inputs["is_first"].bool()
    return first if not inter_episode else first & inputs[MEMORY_CUT_KEY].bool()


def spans_trial(inter_episode: bool, episodic_core: bool) -> tuple[bool, ...]:
    """Whether each core of a policy (a recurrent cell, a transformer layer's attention) keeps over the episodes of a
    trial: the first per ``inter_episode`` unless it is an episodic core's navigator; an episodic core's second
    (its memory) per ``inter_episode``."""
    return (inter_episode and not episodic_core,) + ((inter_episode,) if episodic_core else ())


class Acted(NamedTuple):
    """One step of acting: the chosen ``action`` (int64 ``(B,)``), its ``logprob`` and the ``value`` (float32
    ``(B,)``), on the policy's device, and the state after the step."""
    action: torch.Tensor
    logprob: torch.Tensor
    value: torch.Tensor
    state: Any


class Policy(nn.Module, abc.ABC):
    """What the learner, the rollout workers and evaluation call; nothing else of a policy is reached into."""
    num_actions: int

    @property
    def encoder(self) -> VisualEncoder | None:
        """The visual encoder of the image observations (None: no images, or none the trainer should know of);
        a frozen one runs in the rollout workers instead."""
        return None

    @property
    def frozen_encoder(self) -> bool:
        """True when rollouts store the encoder's features (key ``visual_features``) instead of frames."""
        return self.encoder is not None and self.encoder.frozen

    @property
    def trained_encoder(self) -> bool:
        """True when the policy has a visual encoder that trains (a frozen one's features come with the frames)."""
        return self.encoder is not None and not self.encoder.frozen

    @abc.abstractmethod
    def initial_state(self, batch_size: int, max_steps: int, device: torch.device | str = "cpu") -> Any:
        """Empty recurrent state for ``batch_size`` envs, with room for ``max_steps`` steps each."""

    @abc.abstractmethod
    def step(self, inputs: Batch, state: Any, reset: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, Any]:
        """One step per env: ``(logits (B, A), value (B,), new_state)``.

        ``reset`` (bool ``(B,)``) clears the state of envs that start a new trial.
        """

    @abc.abstractmethod
    def forward(self, inputs: Batch, lengths: torch.Tensor | None = None,
                context: Any = None) -> tuple[torch.Tensor, torch.Tensor]:
        """A causal pass over ``(B, T)`` steps: ``(logits (B, T, A), values (B, T))``.

        ``lengths`` (int ``(B,)``) gives ragged valid lengths; steps past them are padding. ``context``, a
        state from ``prefill`` over the steps just before these, is a constant prefix: the pass continues
        from it as ``step`` would, and no gradient flows into it (``trainer.grad_context``).
        """

    @abc.abstractmethod
    def prefill(self, inputs: Batch, lengths: torch.Tensor | None = None,
                max_steps: int | None = None) -> tuple[torch.Tensor, torch.Tensor, Any]:
        """``forward`` without gradients that also returns the state after the steps, ready for ``step``
        (with room for ``max_steps`` steps): refreshes stale states after an update."""

    @torch.no_grad()
    def act(self, inputs: Batch, state: Any, reset: torch.Tensor | None = None,
            generator: torch.Generator | None = None, greedy: bool = False) -> Acted:
        """One ``step`` and the action it chooses: sampled from the logits (``greedy``: their arg-max).

        The one place where acting turns logits into actions, for training and evaluation alike. Sampled on the
        CPU with a CPU ``generator``: the same actions on any device, and a saved generator state resumes
        anywhere.
        """
        logits, value, state = self.step(inputs, state, reset)
        logp_all = torch.log_softmax(logits.float(), -1)
        if greedy:
            action = logp_all.argmax(-1)
        else:
            action = torch.multinomial(logp_all.exp().cpu(), 1, generator=generator).squeeze(-1).to(logits.device)
        return Acted(action, logp_all.gather(-1, action.unsqueeze(-1)).squeeze(-1), value.float(), state)

    def memory_parameters(self) -> set[str]:
        """Names of the parameters of a memory path beside a memoryless network (``policy.episodic_core``), whose
        output starts at zero: a warm start from a memoryless run's weights (``init_from``) leaves them at init."""
        return set()

    def attention(self, state: Any) -> list[torch.Tensor] | None:
        """After ``step``: per layer, ``(B, H, S)`` attention probabilities of the latest step over the steps in
        ``state`` (None for a policy without attention). Evaluation's attention probes read this."""
        return None

    @abc.abstractmethod
    def select_state(self, state: Any, rows: torch.Tensor | slice) -> Any:
        """The state of envs ``rows`` only: each half's share of a refreshed state (views for a slice, so that
        stepping a half continues the whole), a minibatch's share of a constant context."""
