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
    """
    n, t = rewards.shape
    adv = torch.zeros_like(values)
    last = torch.zeros(n, dtype=values.dtype, device=values.device)
    next_value = bootstrap.to(values.dtype)
    for i in range(t - 1, -1, -1):
        done = dones[:, i].bool()
        cut_value = torch.where(terminals[:, i].bool(), torch.zeros_like(last), values[:, i])
        nv = torch.where(done, cut_value, next_value)
        delta = rewards[:, i] + gamma * nv - values[:, i]
        last = delta + gamma * lam * (~done).to(values.dtype) * last
        adv[:, i] = last
        next_value = values[:, i]
    return adv, adv + values
