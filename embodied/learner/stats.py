"""Episode metrics over a sliding window, and the per-update log lines (TensorBoard + CSV)."""
from __future__ import annotations

import collections
import csv
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from embodied.atomic import open_atomic

LATE_EPISODE = 10  # "late" episodes of a trial: index 10 on (episodes 11+), as benchmarks/incontext.py counts them


class EpisodeStats:
    """Means of the env's end-of-episode metrics (and the return) over the last ``window`` episodes; with the
    episodes' index in their trial, also of the first episodes (``first/<k>``) and the late ones
    (``late/<k>``, index >= ``LATE_EPISODE``): the in-context curve's two ends, while training. In trials of a
    fixed number of steps the late episodes over-represent trials of short episodes (quick successes and
    quick wrong stops alike): compare an agent's late episodes with its control's, not with its first ones
    (``benchmarks/incontext.py`` plays a fixed number of episodes per trial instead)."""

    def __init__(self, num_envs: int, window: int):
        self.window = window
        self.returns = np.zeros(num_envs, np.float64)
        self.values: dict[str, collections.deque] = collections.defaultdict(lambda: collections.deque(maxlen=window))
        self.episodes = 0
        self._marked: tuple[dict[str, list[float]], int] = ({}, 0)

    def add(self, rows: slice, reward: np.ndarray, done: np.ndarray, info: Mapping[str, np.ndarray],
            episode_index: np.ndarray | None = None) -> None:
        """One step of envs ``rows``; ``episode_index``: each env's index in its trial of the step's episode."""
        self.returns[rows] += reward
        ended = np.flatnonzero(done)
        for i in ended:
            got = {"return": float(self.returns[rows][i])}
            got.update({k: float(v[i]) for k, v in info.items()
                        if np.ndim(v) == 1 and len(v) == len(done) and np.isfinite(v[i])})
            index = None if episode_index is None else int(episode_index[i])
            part = "first/" if index == 0 else "late/" if index is not None and index >= LATE_EPISODE else None
            for k, v in got.items():
                self.values[k].append(v)
                if part:
                    self.values[part + k].append(v)
        self.returns[rows][ended] = 0.0
        self.episodes += len(ended)

    def reset_returns(self) -> None:
        """Forget partial returns (new trials start mid-way after a lost worker)."""
        self.returns[:] = 0.0

    def mark(self) -> None:
        """Remember the episodes so far (at an update: the data up to here is kept whatever happens next)."""
        self._marked = ({k: list(v) for k, v in self.values.items()}, self.episodes)

    def rollback(self) -> None:
        """Forget the episodes since :meth:`mark`: their rollout was dropped, so they were never trained on."""
        values, self.episodes = self._marked
        self.values.clear()
        for k, v in values.items():
            self.values[k].extend(v)
        self.reset_returns()

    def means(self) -> dict[str, float]:
        return {k: float(np.mean(v)) for k, v in self.values.items() if len(v)}


class ScalarLog:
    """Scalars per update to TensorBoard and to ``metrics.csv`` (the learning curve without TensorBoard)."""

    def __init__(self, run_dir: Path, enabled_tb: bool = True):
        run_dir.mkdir(parents=True, exist_ok=True)
        self.path = run_dir / "metrics.csv"
        self.writer = None
        if enabled_tb:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(run_dir / "tb"))
        self.columns: list[str] | None = None
        if self.path.exists():
            with open(self.path, newline="") as f:
                header = next(csv.reader(f), None)
            self.columns = header or None

    def write(self, step: int, scalars: Mapping[str, float]) -> None:
        if self.writer is not None:
            for k, v in scalars.items():
                if v is not None and math.isfinite(v):
                    self.writer.add_scalar(k, v, step)
        if self.columns is None:
            self.columns = ["env_steps", *sorted(scalars)]
            with open(self.path, "w", newline="") as f:
                csv.writer(f).writerow(self.columns)
        elif not set(scalars) <= set(self.columns):
            self._widen(sorted(set(scalars) - set(self.columns)))
        row = [step] + [scalars.get(c, "") for c in self.columns[1:]]
        with open(self.path, "a", newline="") as f:
            csv.writer(f).writerow(row)

    def _widen(self, new: list[str]) -> None:
        """Add columns for scalars that earlier rows lack (a run resumed with a new loss term): the file is
        rewritten with them empty in the old rows, atomically: a crash keeps the old one."""
        with open(self.path, newline="") as f:
            rows = list(csv.reader(f))[1:]
        self.columns = [*self.columns, *new]
        with open_atomic(self.path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(self.columns)
            w.writerows(row + [""] * len(new) for row in rows)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
