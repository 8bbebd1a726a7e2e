"""The trial buffer: every step of the current trial of each env, the context of every partial update."""
from __future__ import annotations

from collections.abc import Mapping

import gymnasium
import numpy as np
import torch

from embodied.policy.interface import Batch
from embodied.rollout.transforms import ORACLE_KEY, RECALL_DIM, RECALL_KEY, WEIGHT_KEY

_TORCH_DTYPES = {np.dtype(np.bool_): torch.bool, np.dtype(np.uint8): torch.uint8, np.dtype(np.int32): torch.int32,
                 np.dtype(np.int64): torch.int64, np.dtype(np.float32): torch.float32,
                 np.dtype(np.float64): torch.float32}


class TrialBuffer:
    """``(num_envs, capacity)`` arrays of observations, actions, behaviour log-probs, values and outcomes.

    Step ``i`` of env ``n`` holds the observation the action was chosen on, that action, its log-prob
    and value, and the outcome of taking it (reward, episode end, terminal). ``prev_action`` and
    ``prev_reward`` are not stored: they are derived from the actions and rewards so that they stay
    right after the episodes are shuffled. With ``feature_dim``, each step's visual features as acting encoded them
    are kept beside its frames (``trainer.encoder_grad=acted``).
    """

    def __init__(self, obs_space: Mapping[str, gymnasium.Space], num_envs: int, capacity: int,
                 device: torch.device | str = "cpu", feature_dim: int = 0):
        self.num_envs, self.capacity, self.device = num_envs, capacity, torch.device(device)
        self.obs = {k: torch.zeros((num_envs, capacity, *s.shape), dtype=_TORCH_DTYPES[np.dtype(s.dtype)],
                                   device=self.device)
                    for k, s in obs_space.items()}

        def z(dtype: torch.dtype) -> torch.Tensor:
            return torch.zeros((num_envs, capacity), dtype=dtype, device=self.device)

        self.action, self.logprob, self.value = z(torch.int64), z(torch.float32), z(torch.float32)
        self.reward, self.done, self.terminal = z(torch.float32), z(torch.bool), z(torch.bool)
        self.oracle = z(torch.int64) - 1  # the oracle's action at each step (imitation label); -1: none
        self.oracle_weight = z(torch.float32) + 1  # the label's weight in the imitation term
        # the teacher's memory of the goal (valid flag, offsets; transforms.RECALL_KEY): the recall loss's target
        self.recall = torch.zeros((num_envs, capacity, RECALL_DIM), dtype=torch.float32, device=self.device)
        self.features = (torch.zeros((num_envs, capacity, feature_dim), dtype=torch.float32, device=self.device)
                         if feature_dim else None)

    def add(self, rows: slice, t: int, obs: Mapping[str, np.ndarray], action: torch.Tensor,
            logprob: torch.Tensor, value: torch.Tensor, labels: Mapping[str, np.ndarray] | None = None,
            features: torch.Tensor | None = None) -> None:
        """Record the choice made at step ``t`` by envs ``rows``, the teacher's ``labels`` if any (by the
        keys of ``embodied.rollout.transforms``: its action, that action's weight, its recall of the goal), and the
        visual ``features`` acting used where the buffer keeps them."""
        labels = labels or {}
        if self.features is not None:
            if features is None:
                raise ValueError("this buffer keeps each step's visual features (trainer.encoder_grad=acted): "
                                 "acting must pass them")
            self.features[rows, t] = features
        for k, buf in self.obs.items():
            buf[rows, t] = torch.as_tensor(np.asarray(obs[k]), device=self.device).to(buf.dtype)
        self.action[rows, t], self.logprob[rows, t], self.value[rows, t] = action, logprob, value
        for buf, key, absent in ((self.oracle, ORACLE_KEY, -1), (self.oracle_weight, WEIGHT_KEY, 1.0),
                                 (self.recall, RECALL_KEY, 0.0)):
            buf[rows, t] = absent if key not in labels else torch.as_tensor(labels[key], device=self.device)

    def set_outcome(self, rows: slice, t: int, reward: np.ndarray, done: np.ndarray, terminal: np.ndarray) -> None:
        """Record what taking step ``t``'s action returned."""
        self.reward[rows, t] = torch.as_tensor(reward, device=self.device).float()
        self.done[rows, t] = torch.as_tensor(done, device=self.device).bool()
        self.terminal[rows, t] = torch.as_tensor(terminal, device=self.device).bool()

    def previous(self, rows: slice, t: int) -> Batch:
        """The ``prev_action`` and ``prev_reward`` inputs for the observation pending at step ``t``."""
        if t == 0:
            return {"prev_action": torch.zeros_like(self.action[rows, 0]),
                    "prev_reward": torch.zeros_like(self.reward[rows, 0])}
        return {"prev_action": self.action[rows, t - 1].clone(), "prev_reward": self.reward[rows, t - 1].clone()}

    def inputs(self, stop: int, rows: slice | torch.Tensor = slice(None)) -> Batch:
        """Policy inputs ``(B, stop, ...)`` for steps ``[0, stop)``."""
        batch = {k: v[rows, :stop] for k, v in self.obs.items()}
        for name, values in (("prev_action", self.action[rows, :stop]), ("prev_reward", self.reward[rows, :stop])):
            batch[name] = torch.cat([torch.zeros_like(values[:, :1]), values[:, :-1]], dim=1)
        return batch

    def shuffle_episodes(self, stop: int, rng: np.random.Generator) -> None:
        """Shuffle the order of each env's completed episodes in ``[0, stop)``; the running one stays last.

        Episode indices are renumbered in the new order and the trial-start flag moves to position 0, so
        the buffer reads as a trial whose episodes happened in the shuffled order.
        """
        done = self.done[:, :stop].cpu().numpy()
        order = np.empty((self.num_envs, stop), np.int64)
        episode = np.empty((self.num_envs, stop), np.int64)
        for n in range(self.num_envs):
            ends = np.flatnonzero(done[n]) + 1
            starts = np.concatenate([[0], ends[:-1]]) if len(ends) else np.zeros(0, np.int64)
            segments = [np.arange(a, b) for a, b in zip(starts, ends)]
            perm = rng.permutation(len(segments))
            running = np.arange(ends[-1] if len(ends) else 0, stop)
            pieces = [segments[i] for i in perm] + [running]
            order[n] = np.concatenate(pieces)
            episode[n] = np.repeat(np.arange(len(pieces)), [len(p) for p in pieces])
        index = torch.as_tensor(order, device=self.device)
        for name in ("action", "logprob", "value", "reward", "done", "terminal", "oracle", "oracle_weight"):
            buf = getattr(self, name)
            buf[:, :stop] = torch.gather(buf[:, :stop], 1, index)
        for buf in (*self.obs.values(), self.recall, *([] if self.features is None else [self.features])):
            idx = index.view(*index.shape, *([1] * (buf.dim() - 2))).expand(-1, -1, *buf.shape[2:])
            buf[:, :stop] = torch.gather(buf[:, :stop], 1, idx)
        if "episode_index" in self.obs:
            self.obs["episode_index"][:, :stop] = torch.as_tensor(episode, device=self.device).to(
                self.obs["episode_index"].dtype)
        if "is_trial_first" in self.obs:
            self.obs["is_trial_first"][:, :stop] = False
            self.obs["is_trial_first"][:, 0] = True
