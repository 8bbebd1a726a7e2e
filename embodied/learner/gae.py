"""Generalised advantage estimation over a trial buffer that holds several episodes per env."""
from __future__ import annotations

import torch


def gae(rewards: torch.Tensor, values: torch.Tensor, dones: torch.Tensor, terminals: torch.Tensor,
        bootstrap: torch.Tensor, gamma: float, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and returns, both ``(N, t)``, for steps ``[0, t)`` of ``N`` envs.

    ``dones[:, i]``: step ``i`` ended an episode; ``terminals[:, i]``: it ended by the task (value 0
    after it). A truncated episode (done, not terminal) is bootstrapped with its own last value, since
    with same-step auto-reset the observation after the cap is never seen. ``bootstrap`` ``(N,)`` is the
    value of the pending observation at ``t`` that continues step ``t - 1``'s episode.

    Everything but the recursion ``adv_i = delta_i + gamma lam (1 - done_i) adv_{i+1}`` is computed for all
    steps at once; the loop left over the steps is one multiply-add (the same operations in the same order).
    """
    next_values = torch.cat([values[:, 1:], bootstrap.to(values.dtype)[:, None]], dim=1)
    done = dones.bool()
    cut_values = torch.where(terminals.bool(), torch.zeros_like(values), values)
    deltas = rewards + gamma * torch.where(done, cut_values, next_values) - values
    carry = gamma * lam * (~done).to(values.dtype)
    adv = torch.empty_like(values)
    last = torch.zeros_like(values[:, 0])
    for i in range(rewards.shape[1] - 1, -1, -1):
        last = deltas[:, i] + carry[:, i] * last
        adv[:, i] = last
    return adv, adv + values
