"""RL²-style recurrent baseline: one recurrent state carried across all episodes of a trial.

The in-context-RL baseline against the transformer: the same step tokens (built from the observation
space, plus the previous action and reward; ``embodied/policy/tokens.py``) feed a GRU (or an LSTM,
``policy.cell``) instead of attention. The state is reset only when a new trial (new house) starts, so
what the agent learnt about the house in earlier episodes can persist; with ``policy.inter_episode: false``
it restarts at every episode (``is_first``): the same network without memory across episodes, the control.
With ``policy.episodic_core`` the navigation and the memory get a cell each: the first restarts at every
episode as the control's does, the second spans the trial and is read through a projection that starts at
zero, so that a state carried over episodes never becomes new input to the navigator's weights (on houses,
carrying one LSTM's state over the trial cost it navigation skill about as often as memory paid).

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
from embodied.policy.interface import Batch, Policy, episode_restarts, spans_trial
from embodied.policy.settings import GRUSettings, num_actions
from embodied.policy.tokens import StepTokenizer


class GRUPolicy(Policy):
    """Encoder → GRU or LSTM → actor/critic heads; state ``(layers, B, hidden)``, for an LSTM its hidden and
    cell states stacked as ``(2 * layers, B, hidden)`` (one tensor: rows select and reset alike); with
    ``episodic_core`` the memory cell's rows follow the first cell's.

    ``cfg``: configs/policy/gru.yaml documents the keys.
    """

    def __init__(self, cfg: Mapping[str, Any], obs_space: Mapping[str, gymnasium.Space],
                 act_space: Mapping[str, gymnasium.Space]):
        super().__init__()
        s = GRUSettings.from_config(cfg)
        self.num_actions = num_actions(act_space)
        self.tokenizer = StepTokenizer(s.tokens, obs_space, self.num_actions, s.token_dim)
        self.cell = s.cell
        rnn = nn.GRU if s.cell == "gru" else nn.LSTM
        setattr(self, s.cell, rnn(s.token_dim, s.hidden, num_layers=s.layers, batch_first=True))  # weights named by cell
        self.spans_trial = spans_trial(s.inter_episode, s.episodic_core)  # per core
        if s.episodic_core:
            # The memory beside an episodic navigator: its own cell over the trial, read through a projection that
            # starts at zero, so that training starts from the memoryless network.
            self.memory = rnn(s.token_dim, s.hidden, num_layers=s.layers, batch_first=True)
            self.memory_out = nn.Linear(s.hidden, s.hidden, bias=False)
            nn.init.zeros_(self.memory_out.weight)
        self.actor = nn.Linear(s.hidden, self.num_actions)
        self.critic = nn.Linear(s.hidden, 1)
        nn.init.orthogonal_(self.actor.weight, 0.01)
        nn.init.zeros_(self.actor.bias)

    @property
    def encoder(self) -> VisualEncoder | None:
        return self.tokenizer.encoder

    @property
    def _cores(self) -> list[nn.GRU | nn.LSTM]:
        return [getattr(self, self.cell)] + ([self.memory] if len(self.spans_trial) > 1 else [])

    @property
    def _rows(self) -> int:
        """State rows per core."""
        return getattr(self, self.cell).num_layers * (2 if self.cell == "lstm" else 1)

    def initial_state(self, batch_size: int, max_steps: int, device: torch.device | str = "cpu") -> torch.Tensor:
        hidden = getattr(self, self.cell).hidden_size
        return torch.zeros(self._rows * len(self.spans_trial), batch_size, hidden, device=device)

    def step(self, inputs: Batch, state: torch.Tensor, reset: torch.Tensor | None = None):
        """One step per env; ``reset`` (default: the ``is_trial_first`` flags) clears the state of new trials,
        and a core whose state restarts every episode (``inter_episode: false``, the episodic core, a trial with
        its memory cut) is also cleared at every episode's first step."""
        x = torch.relu(self.tokenizer(inputs)).unsqueeze(1)
        outs, states = [], []
        for rnn, spans, h in zip(self._cores, self.spans_trial, state.split(self._rows)):
            flags = self._restarts(inputs, spans, reset)
            if flags is not None:
                h = h * (~flags).float().view(1, -1, 1)
            out, h = self._core(rnn, x, h)
            outs.append(out[:, 0])
            states.append(h)
        out = self._combine(outs)
        return self.actor(out), self.critic(out).squeeze(-1), torch.cat(states)

    def forward(self, inputs: Batch, lengths: torch.Tensor | None = None, context: torch.Tensor | None = None):
        logits, values, _ = self._run(inputs, context)
        return logits, values

    def prefill(self, inputs: Batch, lengths: torch.Tensor | None = None, max_steps: int | None = None):
        """Steps past ``lengths`` cannot change earlier outputs (the pass is causal) but do enter the state."""
        with torch.no_grad():
            return self._run(inputs)

    def memory_parameters(self) -> set[str]:
        return {n for n, _ in self.named_parameters() if n.startswith(("memory.", "memory_out."))}

    def select_state(self, state: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return state[:, rows]

    @staticmethod
    def _restarts(inputs: Batch, spans_trial: bool, reset: torch.Tensor | None = None) -> torch.Tensor | None:
        """Where a core's state starts afresh: new trials (``reset``, default ``is_trial_first``; may be absent)
        and, unless it spans the trial, new episodes (None: nowhere)."""
        trial = inputs.get("is_trial_first") if reset is None else reset
        episode = episode_restarts(inputs, spans_trial)
        if episode is None:
            return None if trial is None else trial.bool()
        return episode if trial is None else trial.bool() | episode

    def _combine(self, outs: list[torch.Tensor]) -> torch.Tensor:
        """What the heads read: the first core's output, plus the memory's through its projection."""
        return outs[0] if len(outs) == 1 else outs[0] + self.memory_out(outs[1])

    def _core(self, rnn: nn.GRU | nn.LSTM, x: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A recurrent cell over ``(B, T)`` tokens from ``state``: outputs and the new state."""
        if isinstance(rnn, nn.GRU):
            return rnn(x, state)
        layers = rnn.num_layers
        if x.shape[1] == 1:
            return _lstm_step(rnn, x, state)
        out, (h, c) = rnn(x, (state[:layers].contiguous(), state[layers:].contiguous()))
        return out, torch.cat([h, c])

    def _run(self, inputs: Batch, state: torch.Tensor | None = None):
        """Logits, values and the final state of ``(B, T)`` steps continuing from ``state``."""
        x = torch.relu(self.tokenizer(inputs))
        b, t = x.shape[:2]
        if state is None:
            state = self.initial_state(b, t, x.device)
        outs, states = [], []
        for rnn, spans, h in zip(self._cores, self.spans_trial, state.split(self._rows)):
            # The state restarts where a new trial begins inside the sequence (rare: rollouts start trials), or
            # for a state restarting every episode a new episode: the sequence runs in pieces between the steps
            # where any env restarts.
            restart = self._restarts(inputs, spans)
            cuts = [0] + ([] if restart is None else
                          [int(j) for j in torch.nonzero(restart[:, 1:].any(0)).flatten() + 1]) + [t]
            pieces = []
            for start, stop in itertools.pairwise(cuts):
                if restart is not None:
                    h = h * (~restart[:, start]).float().view(1, -1, 1)
                out, h = self._core(rnn, x[:, start:stop], h)
                pieces.append(out)
            outs.append(torch.cat(pieces, dim=1))
            states.append(h)
        out = self._combine(outs)
        return self.actor(out), self.critic(out).squeeze(-1), torch.cat(states)


def _lstm_step(rnn: nn.LSTM, x: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of ``rnn`` (``x`` ``(B, 1, in)``, ``state`` its stacked ``(h, c)``) cell by cell, as ``rnn`` computes
    it: acting calls one step at a time, for which oneDNN's sequence kernel costs ~0.4 ms of set-up a call."""
    layers, out = rnn.num_layers, x[:, 0]
    hs, cs = [], []
    for i in range(layers):
        biases = (getattr(rnn, f"bias_ih_l{i}"), getattr(rnn, f"bias_hh_l{i}")) if rnn.bias else (None, None)
        h, c = torch.lstm_cell(out, (state[i], state[layers + i]), getattr(rnn, f"weight_ih_l{i}"),
                               getattr(rnn, f"weight_hh_l{i}"), *biases)
        hs.append(h)
        cs.append(c)
        out = h
    return out.unsqueeze(1), torch.stack(hs + cs)
