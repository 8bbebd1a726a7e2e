"""RL²-style recurrent baseline: one recurrent state carried across all episodes of a trial.

The in-context-RL baseline against the transformer: the same step tokens (built from the observation
space, plus the previous action and reward; ``embodied/policy/tokens.py``) feed a GRU (or an LSTM,
``policy.cell``) instead of attention. The state is reset only when a new trial (new house) starts, so
what the agent learnt about the house in earlier episodes can persist; with ``policy.inter_episode: false``
it restarts at every episode (``is_first``): the same network without memory across episodes, the control.

On CPU PyTorch runs an LSTM's whole sequence, forward and backward, in oneDNN's fused kernels, a GRU step
by step through autograd: at the learner's small minibatches (2 envs x a whole trial) the LSTM's update is
several times faster (``python benchmarks/grad_context.py policy.cell=lstm``).
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import gymnasium
import torch
from torch import nn

from embodied.policy.encoders import VisualEncoder
from embodied.policy.interface import Batch, Policy
from embodied.policy.settings import GRUSettings, num_actions
from embodied.policy.tokens import StepTokenizer


class GRUPolicy(Policy):
    """Encoder → GRU or LSTM → actor/critic heads; state ``(layers, B, hidden)``, for an LSTM its hidden and
    cell states stacked as ``(2 * layers, B, hidden)`` (one tensor: rows select and reset alike).

    ``cfg``: configs/policy/gru.yaml documents the keys.
    """

    def __init__(self, cfg: Mapping[str, Any], obs_space: Mapping[str, gymnasium.Space],
                 act_space: Mapping[str, gymnasium.Space]):
        super().__init__()
        s = GRUSettings.from_config(cfg)
        self.num_actions = num_actions(act_space)
        self.tokenizer = StepTokenizer(s.tokens, obs_space, self.num_actions, s.token_dim)
        self.cell = s.cell
        self.restart_key = "is_trial_first" if s.inter_episode else "is_first"  # where the state starts afresh
        rnn = nn.GRU if s.cell == "gru" else nn.LSTM
        setattr(self, s.cell, rnn(s.token_dim, s.hidden, num_layers=s.layers, batch_first=True))  # weights named by cell
        self.actor = nn.Linear(s.hidden, self.num_actions)
        self.critic = nn.Linear(s.hidden, 1)
        nn.init.orthogonal_(self.actor.weight, 0.01)
        nn.init.zeros_(self.actor.bias)

    @property
    def encoder(self) -> VisualEncoder | None:
        return self.tokenizer.encoder

    @property
    def _rnn(self) -> nn.GRU | nn.LSTM:
        return getattr(self, self.cell)

    def initial_state(self, batch_size: int, max_steps: int, device: torch.device | str = "cpu") -> torch.Tensor:
        rows = self._rnn.num_layers * (2 if self.cell == "lstm" else 1)
        return torch.zeros(rows, batch_size, self._rnn.hidden_size, device=device)

    def step(self, inputs: Batch, state: torch.Tensor, reset: torch.Tensor | None = None):
        """One step per env; ``reset`` (default: the ``is_trial_first`` flags) clears the state of new trials,
        and with ``inter_episode: false`` every episode's first step does too."""
        if reset is None:
            reset = inputs.get("is_trial_first")
        if self.restart_key != "is_trial_first":
            first = self._restarts(inputs).bool()
            reset = first if reset is None else reset.bool() | first
        if reset is not None:
            state = state * (~reset.bool()).float().view(1, -1, 1)
        out, state = self._core(torch.relu(self.tokenizer(inputs)).unsqueeze(1), state)
        return self.actor(out[:, 0]), self.critic(out[:, 0]).squeeze(-1), state

    def forward(self, inputs: Batch, lengths: torch.Tensor | None = None, context: torch.Tensor | None = None):
        logits, values, _ = self._run(inputs, context)
        return logits, values

    def prefill(self, inputs: Batch, lengths: torch.Tensor | None = None, max_steps: int | None = None):
        """Steps past ``lengths`` cannot change earlier outputs (the pass is causal) but do enter the state."""
        with torch.no_grad():
            return self._run(inputs)

    def select_state(self, state: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return state[:, rows]

    def _restarts(self, inputs: Batch) -> torch.Tensor | None:
        """The flags of the steps where the state starts afresh (trial starts may be absent: no restarts)."""
        flags = inputs.get(self.restart_key)
        if flags is None and self.restart_key != "is_trial_first":
            raise KeyError("policy.inter_episode: false needs the 'is_first' flags in the policy inputs")
        return flags

    def _core(self, x: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The recurrent cell over ``(B, T)`` tokens from ``state``: outputs and the new state."""
        if self.cell == "gru":
            return self.gru(x, state)
        layers = self.lstm.num_layers
        out, (h, c) = self.lstm(x, (state[:layers].contiguous(), state[layers:].contiguous()))
        return out, torch.cat([h, c])

    def _run(self, inputs: Batch, h: torch.Tensor | None = None):
        """Logits, values and the final hidden state of ``(B, T)`` steps continuing from ``h``."""
        x = torch.relu(self.tokenizer(inputs))
        b, t = x.shape[:2]
        if h is None:
            h = self.initial_state(b, t, x.device)
        # The state restarts where a new trial begins inside the sequence (rare: rollouts start trials), or with
        # inter_episode: false a new episode: the sequence runs in pieces between the steps where any env restarts.
        restart = self._restarts(inputs)
        cuts = [0] + ([] if restart is None else
                      [int(i) for i in torch.nonzero(restart[:, 1:].any(0)).flatten() + 1]) + [t]
        outs = []
        for start, stop in itertools.pairwise(cuts):
            if restart is not None:
                h = h * (~restart[:, start].bool()).float().view(1, -1, 1)
            out, h = self._core(x[:, start:stop], h)
            outs.append(out)
        out = torch.cat(outs, dim=1)
        return self.actor(out), self.critic(out).squeeze(-1), h
