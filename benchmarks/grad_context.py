"""The learner's cost per env step against the trial length, for each ``trainer.grad_context`` setting.

With ``full`` context gradients (ReLIC) every partial update runs forward and backward over the whole trial
so far, so the learner's work per env step grows with the trial length T; with ``none`` the old context is
a constant prefix (the refresh's KV cache / state, no second pass) and only the attention over it still
grows. This times one trial's learning (partial updates, refreshes, the full update) of the default trainer
at each T on a buffer of random steps (the env is not involved), single-threaded, in CPU time (so other
processes on the machine do not count).

    python benchmarks/grad_context.py [--lengths 256 1024] [--settings full none 64] [key=value overrides]

Last line of stdout: one JSON object, ``learner_us_per_step_<setting>_T<T>`` (microseconds of learner time per
env step) and ``growth_<setting>`` (its ratio between the longest and the shortest T; 1 = independent of T).
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from embodied.config import load
from embodied.learner.ppo import grad_context_steps
from embodied.learner.trainer import Trainer


def fill(trainer: Trainer, episode: int) -> None:
    """Random observations and outcomes, an episode every ``episode`` steps."""
    buf = trainer.buffer
    g = torch.Generator().manual_seed(0)
    for key, x in buf.obs.items():
        if x.dtype == torch.float32:
            x.copy_(torch.randn(x.shape, generator=g))
    steps = torch.arange(buf.capacity)
    if "step_index" in buf.obs:
        buf.obs["step_index"][:] = (steps % episode).to(buf.obs["step_index"].dtype)
    if "episode_index" in buf.obs:
        buf.obs["episode_index"][:] = (steps // episode).to(buf.obs["episode_index"].dtype)
    for key, flag in (("is_first", steps % episode == 0), ("is_trial_first", steps == 0)):
        if key in buf.obs:
            buf.obs[key][:] = flag
    buf.action.copy_(torch.randint(0, trainer.policy.num_actions, buf.action.shape, generator=g))
    buf.reward.copy_(torch.rand(buf.reward.shape, generator=g))
    buf.done[:] = steps % episode == episode - 1


def learner_seconds(trainer: Trainer) -> float:
    """One trial's learning as the trainer schedules it: a partial update and a refresh every U, full at T."""
    T, U, learner, buf = trainer.T, trainer.U, trainer.learner, trainer.buffer
    halves = trainer.collector.rows
    start = time.process_time()  # CPU time of this single-threaded process: robust to other loads
    for stop in range(U, T + 1, U):
        learner.update(buf, 0 if stop == T else stop - U, stop, torch.zeros(buf.num_envs), stop - U)
        if stop < T:
            learner.refresh(buf, stop, halves)
    return time.process_time() - start


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[256, 1024], help="trial lengths T")
    parser.add_argument("--settings", nargs="+", default=["full", "none", "64"], help="trainer.grad_context values")
    args, overrides = parser.parse_known_args(argv)
    torch.set_num_threads(1)
    results: dict = {}
    for setting in args.settings:
        setting = setting if setting in ("full", "none") else int(setting)
        grad_context_steps(setting)
        for T in args.lengths:
            cfg = load("train", ["cluster=inprocess", "cluster.num_workers=1", f"trainer.rollout_steps={T}",
                                 f"trainer.grad_context={setting}", *overrides])
            with tempfile.TemporaryDirectory() as tmp:
                trainer = Trainer(cfg, Path(tmp), remote=False, progress=False, tensorboard=False)
                try:
                    fill(trainer, int(cfg.env.max_steps))
                    seconds = learner_seconds(trainer)
                    steps = T * trainer.buffer.num_envs
                finally:
                    trainer.close()
            results[f"learner_us_per_step_{setting}_T{T}"] = round(1e6 * seconds / steps, 1)
            print(f"grad_context={setting} T={T}: {1e6 * seconds / steps:.1f} us of learner time per env step",
                  flush=True)
        lo, hi = min(args.lengths), max(args.lengths)
        results[f"growth_{setting}"] = round(results[f"learner_us_per_step_{setting}_T{hi}"]
                                             / results[f"learner_us_per_step_{setting}_T{lo}"], 2)
    results["policy"] = str(cfg.policy.name) + (f":{cfg.policy.cell}" if "cell" in cfg.policy else "")
    return results


if __name__ == "__main__":
    import sys

    print(json.dumps(main(sys.argv[1:])))
