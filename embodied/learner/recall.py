"""The auxiliary recall loss: predict, from the policy's features, where the teacher's memory says the goal is.

An in-context agent must carry "the goal was there" across the episodes of a trial in its recurrent state or
KV cache. PPO rewards that only when a later episode ends sooner, and the imitation term only on the few steps
where the teacher's memory changes its action; this loss asks for the memory itself, at every step once the
teacher's map holds an instance of the goal: a linear head on the features the actor reads (the input of
``policy.actor``, taken by a forward hook) predicts the nearest such instance's offset from the agent (the
teacher's ``recall``, ``embodied.rollout.transforms.RECALL_KEY``), after UNREAL's auxiliary tasks. The head
belongs to the learner and only trains: acting and evaluation never run it.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from embodied.policy.interface import Policy
from embodied.rollout.transforms import RECALL_DIM


class RecallHead(nn.Module):
    """Linear read-out of the recall target from the features of the policy's last forward pass."""

    def __init__(self, policy: Policy):
        actor = getattr(policy, "actor", None)
        if not isinstance(actor, nn.Linear):
            raise ValueError(f"trainer.recall_coef > 0 needs a policy whose actor head is an nn.Linear over its "
                             f"features (the recurrent and transformer policies); {type(policy).__name__} has none")
        super().__init__()
        self.linear = nn.Linear(actor.in_features, RECALL_DIM - 1)
        self._features: torch.Tensor | None = None
        actor.register_forward_hook(self._keep)

    def _keep(self, module: nn.Module, args: tuple[Any, ...], output: torch.Tensor) -> None:
        self._features = args[0]

    def loss(self, labels: torch.Tensor, start: int, stop: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Squared error (summed over the offsets, mean over the labelled steps) on steps ``[start, stop)`` of the
        last forward pass; ``labels`` ``(B, T, RECALL_DIM)`` over the same steps as that pass."""
        if self._features is None:
            raise RuntimeError("RecallHead.loss before any forward pass of the policy")
        labels = labels[:, start:stop]
        valid = labels[..., 0] > 0
        stats = {"recall_share": valid.float().mean()}
        if not bool(valid.any()):
            error = labels.new_zeros(())
        else:
            prediction = self.linear(self._features[:, start:stop][valid].float())
            error = ((prediction - labels[valid][:, 1:]) ** 2).sum(-1).mean()
        stats["recall_loss"] = error.detach()
        return error, stats
