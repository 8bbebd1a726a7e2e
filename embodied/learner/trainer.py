"""The training loop: double-buffered trial rollouts, partial PPO updates, logging, checkpoints.

One rollout = one trial of ``T = trainer.rollout_steps`` steps in every env (the envs are reset to new
trials at its start). Every ``U = trainer.update_every`` steps the learner runs a partial update over
the new steps, shuffles the completed episodes and refreshes values and recurrent state; at ``T`` it
runs the full update. A lost worker aborts only the current rollout (its data since the last update is
dropped; the updates already made used whole data) and a new rollout starts on fresh envs: the dropped
env steps and episodes are taken back out of the counters and statistics and counted as
``steps_discarded``. A fatal error writes an emergency checkpoint of the state at the last update first.
Under torchrun every rank runs this loop on its own envs with gradients averaged over ranks
(``distributed.py``). With ``trainer.overlap_updates`` each update runs in a background thread while the next
``U`` steps are collected (see :meth:`Trainer._update_beside`).
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import logging
import os
import random
import signal
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from embodied.allocator import keep_freed_memory
from embodied.learner import checkpoint, distributed
from embodied.learner.background import BackgroundUpdate, overlap_planned, overlap_updates
from embodied.learner.buffer import TrialBuffer
from embodied.learner.ppo import PPOHyper, PPOLearner, grad_context_steps, intra_op_threads
from embodied.learner.stats import EpisodeStats, ScalarLog
from embodied.policy import build as build_policy
from embodied.policy.encoders import FEATURE_KEY
from embodied.policy.interface import MEMORY_CUT_KEY
from embodied.rollout.collector import Collector, double_buffer
from embodied.rollout.pool import WorkerLost, WorkerPool
from embodied.rollout.transforms import Teacher, split_label, stored_space

log = logging.getLogger(__name__)


class TrainingFailed(RuntimeError):
    """Training stopped on an error it could not recover from; the message names the cause, the emergency
    checkpoint and the command that continues the run."""


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def to_torch(obs: Mapping[str, np.ndarray], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: torch.as_tensor(np.asarray(v), device=device) for k, v in obs.items()}


def learner_threads(setting: Any, cluster: Mapping[str, Any], local_ranks: int = 1, updates: bool = False,
                    beside: bool = False) -> int:
    """``trainer.torch_threads`` (or with ``updates`` ``trainer.update_threads``) as a number. ``auto`` is this
    rank's share of the cores the process may use (``local_ranks`` learners on this machine), for acting less
    one per env-worker process it starts (in-process workers step in the learner's own thread: none) and, with
    ``beside`` (updates in a thread of their own beside acting), one for that thread; the updates and refreshes
    may take the workers' cores too when the workers wait for them. At least 1."""
    if setting != "auto":
        return int(setting)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = 0 if updates or cluster.get("mode") == "inprocess" else int(cluster.get("num_workers", 1))
    return max(1, cores // max(1, local_ranks) - workers - int(beside))


def imitation_weight(coef: float, steps: int, floor: float, env_steps: int) -> float:
    """The teacher's weight after ``env_steps``: linear from ``coef`` to 0 over ``steps``, held at ``floor``."""
    return max(floor, coef * max(0.0, 1.0 - env_steps / steps))


class Trainer:
    """Builds workers, policy and learner from a resolved config and trains; see the module docstring."""

    def __init__(self, cfg: DictConfig, run_dir: Path, remote: bool, resume: Mapping[str, Any] | None = None,
                 progress: bool = True, tensorboard: bool = True, env_factory: Callable[..., Any] | None = None,
                 rank: distributed.Rank | None = None):
        keep_freed_memory()  # the learner frees MB-sized tensors every minibatch: no page faults to get them back
        self.rank, self.main = rank, rank is None or rank.main
        self.world = rank.world if rank else 1
        self.cfg, self.run_dir, self.progress = cfg, Path(run_dir), progress and self.main
        tc = cfg.trainer
        self.T, self.U = int(tc.rollout_steps), int(tc.update_every)
        self.device = torch.device(tc.device if tc.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu"))
        if rank is not None:
            self.device = distributed.init(rank, self.device)
        self.seed = int(cfg.seed) if self.main else _seed(cfg.seed, 99, rank.rank)  # each rank its own envs
        local_ranks = int(os.environ.get("LOCAL_WORLD_SIZE", "1")) if rank else 1
        torch.set_num_threads(learner_threads(tc.torch_threads, cfg.cluster, local_ranks))
        workers = int(cfg.cluster.num_workers)
        halves = 2 if double_buffer(cfg.cluster, overlap_planned(cfg)) else 1
        self.envs_per_slot = int(tc.num_envs) // (halves * workers)
        env_cfg = {**OmegaConf.to_container(cfg.env, resolve=True), "num_envs": self.envs_per_slot,
                   "episodes_per_trial": self.T}  # a rollout is one trial: never more episodes than steps
        seeds = [[_seed(self.seed, w, h) for h in range(halves)] for w in range(workers)]
        self.counters = {"env_steps": 0, "updates": 0, "rollouts": 0, "episodes": 0, "worker_restarts": 0,
                         "steps_discarded": 0}
        self.imitation = (float(tc.imitation_coef), int(tc.imitation_steps), float(tc.imitation_floor))
        teacher = None if self.imitation[0] <= 0 else Teacher(
            str(tc.imitation_teacher), float(tc.imitation_focus), recall=float(tc.recall_coef) > 0)
        record = None
        if cfg.get("record", "none") != "none":
            record = {"directory": str(self.run_dir.resolve() / "episodes"), "which": str(cfg.record),
                      "frames": bool(cfg.get("record_frames", False))}
        self.pool = WorkerPool(env_cfg, seeds, remote, float(cfg.cluster.get("worker_cpus", 1.0)),
                               on_restart=self._on_restart, factory=env_factory, teacher=teacher,
                               record=record, direct=bool(cfg.cluster.get("direct_calls", True)))
        self.collector = Collector(self.pool, self.envs_per_slot)
        spec = self.pool.call("spec")[0]
        self.obs_space, self.act_space = spec["obs_space"], spec["act_space"]
        self.metric_keys = tuple(spec["metric_keys"])
        torch.manual_seed(_seed(cfg.seed, 3))  # the initial weights (the same on every rank)
        self.policy = build_policy(cfg.policy, self.obs_space, self.act_space).to(self.device)
        if resume is None and cfg.get("init_from"):  # a new run from another run's weights (a curriculum stage)
            self._initialise(str(cfg.init_from))
        self.overlap = overlap_updates(tc.overlap_updates, self.policy.trained_encoder)
        if self.overlap and rank is not None:
            log.warning("trainer.overlap_updates: under torchrun the updates run in line with collection (an update's "
                        "all-reduce in a background thread would race the loop's own collectives)")
            self.overlap = False
        if self.overlap:  # a core for the update
            torch.set_num_threads(learner_threads(tc.torch_threads, cfg.cluster, local_ranks, beside=True))
        frozen = self.policy.encoder if self.policy.frozen_encoder else None
        if frozen is not None:  # the workers send the frozen encoder's features instead of frames
            self.pool.use_encoder(frozen.replica())
        stored = stored_space(self.obs_space, frozen)
        self.memory_dropout = float(tc.memory_dropout)
        if self.memory_dropout > 0:  # which trials had their memory cut: the learner must see them as they were acted
            stored[MEMORY_CUT_KEY] = gymnasium.spaces.Box(0, 1, (), bool)
        self._cut: np.ndarray | None = None  # per env: this rollout's trial has its memory cut (memory_dropout)
        updates_per_rollout = self.T // self.U
        rollouts = max(1, -(-int(tc.total_steps) // (self.T * self.collector.num_envs * self.world)))
        # the trainer keys of the same name; the imitation weight is set per update (annealed), see _update
        same = {f.name: tc[f.name] for f in dataclasses.fields(PPOHyper)
                if f.name in tc and f.name not in ("grad_context", "imitation_coef", "update_threads")}
        update_threads = tc.update_threads
        if update_threads == "auto" and tc.torch_threads != "auto":
            update_threads = 0  # a run told how many threads to take (sharing the machine) keeps to them
        update_threads = learner_threads(update_threads, cfg.cluster, local_ranks, updates=True)
        # Beside acting an update computes on acting's threads (torch's thread count is one for the process), and
        # on update_threads only while the loop waits for it (_finish_update).
        self._wait_threads = update_threads if self.overlap else 0
        hp = PPOHyper(**same, total_updates=rollouts * updates_per_rollout,
                      grad_context=grad_context_steps(tc.grad_context),
                      update_threads=0 if self.overlap else update_threads)
        # Recurrent states hold T steps plus the bootstrap step at T (a KV cache grows in place).
        self.learner = PPOLearner(self.policy, hp, self.T + 1, self.device,
                                  distributed.wrap(self.policy, self.device) if rank else None)
        features = self.policy.encoder.feature_dim if self.learner.acted_features else 0
        trial_buffer = functools.partial(TrialBuffer, stored, self.collector.num_envs, self.T, self.device, features)
        self.buffer = trial_buffer()
        # updates beside acting: the full update at T trains on one buffer while the next trial fills the other
        self.background = BackgroundUpdate() if self.overlap else None
        self._spare = trial_buffer() if self.overlap else None
        self.stats = EpisodeStats(self.collector.num_envs, int(tc.stats_window))
        self.rng = np.random.default_rng(_seed(self.seed, 1))
        self.sampler = torch.Generator().manual_seed(_seed(self.seed, 2))
        random.seed(_seed(self.seed, 4))
        if resume is not None:
            self._restore(resume)
        if self.overlap:
            self.learner.separate_actor()
        self.scalars = ScalarLog(self.run_dir, tensorboard) if self.main else None
        self.stop_requested = False
        self._updating = False  # inside learner.update: the weights are half-updated until it returns
        self._before_update: dict[str, Any] | None = None  # the state from before the running update
        self._kept_before: dict[str, int] | None = None  # the counters' mark from before a background update's start
        self._mark()
        self._bar = None
        self._t0, self._steps0 = time.monotonic(), self.counters["env_steps"]
        self._rate = (self._t0, self._steps0, 0.0)  # (time, steps) at the last log, env steps/s since

    # ---- rollout -------------------------------------------------------------------------------
    def _seed_of(self, worker: int, half: int) -> int:
        return _seed(self.seed, 7, self.counters["rollouts"], worker, half)

    def _act(self, half: int, t: int) -> np.ndarray:
        rows = self.collector.rows[half]
        inputs = to_torch(self._pending[half], self.device)
        inputs.update(self.buffer.previous(rows, t))
        features = None
        if self.learner.acted_features:  # kept: later updates take the frame's features from the buffer
            features = inputs[FEATURE_KEY] = self.learner.encode_acted(inputs)
        action, logp, value, self._states[half] = self.learner.act(inputs, self._states[half], self.sampler)
        self.buffer.add(rows, t, self._pending[half], action, logp, value, self._labels[half], features)
        return action.cpu().numpy()

    def _receive(self, half: int, t: int) -> None:
        obs, reward, done, info = self.collector.wait(half)
        rows = self.collector.rows[half]
        self.buffer.set_outcome(rows, t, reward, done, obs["is_terminal"])
        self.stats.add(rows, reward, done, info, self._pending[half].get("episode_index"))
        self.counters["env_steps"] += len(reward) * self.world  # the ranks step in lockstep
        self.counters["episodes"] += int(np.sum(done))
        self._set_pending(half, obs)

    def _set_pending(self, half: int, obs: dict[str, np.ndarray]) -> None:
        """The observations to act on next, with the trial's memory cut if any; the teacher's labels (if any) are
        kept apart from them."""
        self._pending[half], self._labels[half] = split_label(obs)
        if self._cut is not None:
            self._pending[half][MEMORY_CUT_KEY] = self._cut[self.collector.rows[half]]

    def _bootstrap(self, stop: int) -> torch.Tensor:
        """Values of the pending observations at ``stop`` (they continue step ``stop - 1``'s episodes).

        A look ahead, not a step taken: acting goes on from the same state, so a KV cache's step goes to a shallow
        copy (a step reassigns the cache's length and writes past the end, which the next real step overwrites)."""
        values = []
        for h in self.collector.halves:
            inputs = to_torch(self._pending[h], self.device)
            inputs.update(self.buffer.previous(self.collector.rows[h], stop))
            _, _, value, _ = self.learner.act(inputs, copy.copy(self._states[h]), self.sampler)
            values.append(value)
        return torch.cat(values)

    def _update(self, stop: int) -> dict[str, float]:
        if self.background is not None:
            return self._update_beside(stop)
        stats = self._begin_update(stop, self.buffer)()
        self._updating = False
        self._before_update = None
        if stop < self.T:
            self.buffer.shuffle_episodes(stop, self.rng)
            self._states = self.learner.refresh(self.buffer, stop, self.collector.rows)
        self.counters["updates"] += 1
        self._mark()
        return stats

    def _begin_update(self, stop: int, buffer: TrialBuffer) -> Callable[[], dict[str, float]]:
        """The update at ``stop`` on ``buffer``, ready to run: the imitation weight set, the values bootstrapped, and
        the state from before it kept."""
        self.learner.hp.imitation_coef = imitation_weight(*self.imitation, self.counters["env_steps"])
        bootstrap = self._bootstrap(stop)
        # An error inside the update leaves the weights half-updated: keep the state from before it (a copy of
        # the weights and optimiser moments, small next to the update's work) for the emergency checkpoint.
        self._before_update = copy.deepcopy(self.state()) if self.main else None
        self._updating = True
        return functools.partial(self.learner.update, buffer, 0 if stop == self.T else stop - self.U, stop, bootstrap,
                                 stop - self.U)

    def _update_beside(self, stop: int) -> dict[str, float]:
        """Start the update at ``stop`` in the background; return the previous update's statistics.

        The previous update is waited for first, and acting takes its weights: the steps up to ``stop + U`` are
        acted with weights one update behind the learner's, a policy lag that the clipped ratio against the
        behaviour log-probs absorbs (as in sample-factory's APPO). Acting keeps its recurrent state / KV cache:
        no refresh between partial updates. The full update at ``T`` refreshes the trial's values and log-probs
        with its starting weights first (what the refreshes after the partial updates leave without overlap) and
        runs while the next trial fills the second buffer.
        """
        stats = self._finish_update()
        buffer = self.buffer
        update = self._begin_update(stop, buffer)
        if stop == self.T:
            self.buffer, self._spare = self._spare, buffer
            update = functools.partial(self._refreshed_first, buffer, update)
        self.background.start(update, (buffer, stop))
        self.counters["updates"] += 1
        self._kept_before = self._kept  # should the update fail, the steps it was to learn from are lost too
        self._mark()
        return stats

    def _refreshed_first(self, buffer: TrialBuffer, update: Callable[[], dict[str, float]]) -> dict[str, float]:
        self.learner.refresh(buffer, self.T, [])
        return update()

    def _finish_update(self) -> dict[str, float]:
        """Wait for the background update, if one runs, and give acting its weights; its statistics (or none).
        A failed update's error is raised here, with the state from before it kept for the emergency checkpoint."""
        if self.background is None or not self.background.running:
            return {}
        buffer, stop = self.background.tag
        with intra_op_threads(self._wait_threads if self.background.busy else 0):  # nothing else computes meanwhile
            stats = self.background.wait()
        self._updating, self._before_update, self._kept_before = False, None, None
        if stop < self.T:
            buffer.shuffle_episodes(stop, self.rng)
        self.learner.sync_actor()
        return stats

    def _mark(self) -> None:
        """Remember the counters and episode statistics: the state to fall back on if the rollout is lost."""
        self._kept = dict(self.counters)
        self.stats.mark()

    def _rollback(self) -> int:
        """Counters and statistics back to the last :meth:`_mark`; returns the env steps thrown away."""
        discarded = self.counters["env_steps"] - self._kept["env_steps"]
        self.counters.update(env_steps=self._kept["env_steps"], episodes=self._kept["episodes"])
        self.counters["steps_discarded"] += discarded
        self.stats.rollback()
        return discarded

    def rollout(self, learn: bool = True) -> bool:
        """Collect one trial with its updates (none if not ``learn``); False if interrupted by a stop request."""
        half = self.collector.half_size
        self.pool.rebalance()
        self._mark()
        self._pending, self._labels = [{} for _ in self.collector.halves], [{} for _ in self.collector.halves]
        if self.memory_dropout > 0:
            self._cut = self.rng.random(self.collector.num_envs) < self.memory_dropout
        for h, obs in zip(self.collector.halves, self.collector.reset(self._seed_of)):
            self._set_pending(h, obs)
        self._states = [self.policy.initial_state(half, self.T + 1, self.device) for _ in self.collector.halves]
        self.stats.reset_returns()
        lost = None
        for t in range(self.T):
            boundary = learn and (t + 1) % self.U == 0
            try:
                if lost is None:
                    for h in self.collector.halves:
                        if self.collector.busy(h):
                            self._receive(h, t - 1)
                        self.collector.submit(h, self._act(h, t))
                    if boundary:
                        for h in self.collector.halves:
                            self._receive(h, t)
            except WorkerLost as e:
                if self.rank is None:
                    raise
                lost = e  # the other ranks learn of it at the boundary, where they all give up the rollout
            if self.rank is not None and boundary:
                self._agree(lost)
            if boundary:
                self._log(self._update(t + 1))
            if self.stop_requested and (self.rank is None or boundary):
                self._finish_update()  # it trained on whole data: kept
                self.collector.drop_pending()
                self._rollback()  # the steps since the last update: never trained on, not saved, not counted
                return False
        for h in self.collector.halves:
            if self.collector.busy(h):
                self._receive(h, self.T - 1)
        self.counters["rollouts"] += 1
        return True

    def _agree(self, lost: WorkerLost | None) -> None:
        """At an update boundary: redo the rollout everywhere if any rank lost a worker; stop if any was asked to."""
        if distributed.rank_max(lost is not None, self.device) > 0:
            raise lost or WorkerLost([], "on another rank")
        self.stop_requested = distributed.rank_max(self.stop_requested, self.device) > 0

    # ---- logging -------------------------------------------------------------------------------
    def fps(self) -> float:
        """Env steps/s since this process started training (start-up included)."""
        return (self.counters["env_steps"] - self._steps0) / max(1e-9, time.monotonic() - self._t0)

    def recent_fps(self) -> float:
        """Env steps/s since the previous log line (collection and learning, without start-up)."""
        now, steps = time.monotonic(), self.counters["env_steps"]
        then, before, rate = self._rate
        if steps > before and now > then:
            rate = (steps - before) / (now - then)
        self._rate = (now, steps, rate)
        return rate

    def _log(self, update_stats: Mapping[str, float]) -> None:
        episode = self.stats.means()
        keys = ["return", *self.metric_keys]
        scalars = {f"episode/{k}": episode.get(k, float("nan")) for k in keys}
        # the in-context curve's ends: a trial's first episode and its episodes 11+ (NaN until there are some)
        scalars.update({f"trial/{part}/{k}": episode.get(f"{part}/{k}", float("nan"))
                        for part in ("first", "late") for k in keys})
        scalars.update({f"train/{k}": v for k, v in update_stats.items()})
        fps = self.recent_fps()
        scalars.update({"perf/fps": fps, "perf/wall_s": time.monotonic() - self._t0,
                        "perf/worker_restarts": self.counters["worker_restarts"],
                        "perf/steps_discarded": self.counters["steps_discarded"]})
        if self.scalars is not None:
            self.scalars.write(self.counters["env_steps"], scalars)
        if self._bar is not None:
            self._bar.n = self.counters["env_steps"]
            self._bar.set_postfix(fps=f"{fps:.0f}", success=f"{episode.get('success', float('nan')):.3f}",
                                  episodes=self.counters["episodes"], refresh=False)
            self._bar.refresh()

    def _on_restart(self, worker: int, reason: str) -> None:
        self.counters["worker_restarts"] += 1
        log.warning("worker %d restarted (%s); redoing the current rollout on fresh envs", worker, reason)

    # ---- checkpoints ---------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        spaces = {**{f"obs/{k}": v for k, v in self.obs_space.items()},
                  **{f"act/{k}": v for k, v in self.act_space.items()}}
        state = {"config": OmegaConf.to_container(self.cfg, resolve=True),
                 "spaces": checkpoint.spaces_to_spec(spaces),
                 "policy": self.policy.state_dict(), "optimizer": self.learner.optimizer.state_dict(),
                 "scheduler": self.learner.scheduler.state_dict(), "counters": dict(self.counters),
                 "rng": {"torch": torch.get_rng_state(), "sampler": self.sampler.get_state(),
                         "numpy": self.rng.bit_generator.state, "python": list(random.getstate()[1])}}
        if self.learner.recall is not None:  # the training-only recall head (trainer.recall_coef)
            state["recall"] = {"head": self.learner.recall.state_dict(),
                               "optimizer": self.learner.recall_optimizer.state_dict()}
        return state

    def _initialise(self, source: str) -> None:
        weights = checkpoint.initial_weights(source, self.cfg.policy)
        try:
            self.policy.load_state_dict(weights)
        except RuntimeError as e:  # built for other spaces than this run's env
            raise checkpoint.CheckpointError(f"init_from={source}: its weights do not fit this run's env: {e}") from None
        log.info("policy weights from %s", source)

    def _restore(self, data: Mapping[str, Any]) -> None:
        self.policy.load_state_dict(data["policy"])
        self.learner.restore(data["optimizer"], data["scheduler"], data.get("recall"))
        self.counters.update(data["counters"])
        rng = data["rng"]
        torch.set_rng_state(rng["torch"])
        self.sampler.set_state(rng["sampler"])
        self.rng.bit_generator.state = rng["numpy"]
        random.setstate((3, tuple(rng["python"]), None))
        if not self.main:  # the checkpoint holds rank 0's streams: the other ranks keep their own
            self.rng = np.random.default_rng(_seed(self.seed, 1, self.counters["rollouts"]))
            self.sampler.manual_seed(_seed(self.seed, 2, self.counters["rollouts"]))

    def save(self) -> Path | None:
        """Write a checkpoint (rank 0 only: the weights are the same on every rank)."""
        self._finish_update()  # the full update at T may still run beside the next trial
        if not self.main:
            return None
        path = checkpoint.save(self.run_dir, self.state())
        keep = int(self.cfg.trainer.keep_checkpoints)
        older = sorted(checkpoint.checkpoint_dir(self.run_dir).glob("ckpt-*.pt"))[:-keep]
        for p in older:
            p.unlink()
        log.info("saved %s", path)
        return path

    # ---- main loop -----------------------------------------------------------------------------
    def train(self) -> dict[str, Any]:
        """Train until ``trainer.total_steps`` env steps or Ctrl-C; always ends with a checkpoint (an emergency
        one, then :class:`TrainingFailed`, on an error; a second Ctrl-C aborts without one)."""
        from tqdm import tqdm

        total = int(self.cfg.trainer.total_steps)
        every = int(self.cfg.trainer.checkpoint_every)
        self._bar = tqdm(total=total, initial=self.counters["env_steps"], unit="step", dynamic_ncols=True,
                         disable=not self.progress)
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

        def on_signal(signum, frame):
            if self.stop_requested:  # a second Ctrl-C stops at once
                raise KeyboardInterrupt
            log.warning("%s: saving a checkpoint and stopping (Ctrl-C again aborts without saving)",
                        signal.Signals(signum).name)
            self.stop_requested = True

        in_main = threading.current_thread() is threading.main_thread()  # signals can only be caught there
        for s in previous if in_main else ():
            signal.signal(s, on_signal)
        try:
            while self.counters["env_steps"] < total and not self.stop_requested:
                try:
                    finished = self.rollout()
                except WorkerLost as e:
                    self._finish_update()  # the update running beside the lost rollout used whole data: kept
                    self.collector.drop_pending()
                    log.warning("%s; dropped this rollout's data since the last update: %d env steps, not counted "
                                "in env_steps (steps_discarded)", e, self._rollback())
                    continue
                if finished and self.counters["rollouts"] % every == 0:
                    self.save()
            self.save()
        except Exception as e:  # noqa: BLE001 -- whatever stops training, save what the updates made first
            raise self._failed(e) from e
        finally:
            for s, handler in previous.items() if in_main else ():
                signal.signal(s, handler)
            self._bar.close()
            if self.scalars is not None:
                self.scalars.close()
        return {"counters": dict(self.counters), "episode": self.stats.means(), "fps": self.fps(),
                "interrupted": self.stop_requested}

    def _failed(self, error: Exception) -> TrainingFailed:
        """Write the emergency checkpoint (the state at the last update) and say how to continue the run."""
        log.info("fatal error during training", exc_info=error)  # the traceback goes to train.log only
        cause = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        try:  # an update beside the failed loop: kept when it completes, else the state from before it below
            self._finish_update()
        except Exception:  # noqa: BLE001
            log.info("the update running in the background failed too", exc_info=True)
        if self._updating and self._before_update is not None:
            collected = self.counters["env_steps"]  # beside acting: with the steps collected since it started
            self._restore(self._before_update)  # the half-updated weights are not saved
            self.counters["env_steps"] = collected
            self._kept = self._kept_before or self._kept
        self._rollback()
        try:
            path = self.save()
            saved = f"emergency checkpoint {path} (the state at the last update)" if path else "rank 0 saves"
        except Exception as e:  # noqa: BLE001 -- e.g. a full disk: the message must still come out
            saved = f"could not write an emergency checkpoint ({type(e).__name__}: {e})"
        if any(checkpoint.checkpoint_dir(self.run_dir).glob("ckpt-*.pt")):
            then = f"continue with: embodied train resume={self.run_dir}"
        else:
            then = "no checkpoint to continue from"
        return TrainingFailed(f"training stopped by {cause}; {saved}; {then}")

    def close(self) -> None:
        if self.background is not None and self.background.running:
            try:  # a daemon thread still computing when the interpreter exits aborts the process
                self.background.wait()
            except Exception:  # noqa: BLE001 -- closing after an error: that error is the one reported
                log.info("the update running in the background failed", exc_info=True)
        self.pool.close()
