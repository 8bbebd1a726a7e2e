"""Darkroom: the in-context RL toy task of DPT and Algorithm Distillation, embedded (NumPy only).

Task. A dark ``size`` x ``size`` grid; the agent sees only its cell ``(x, y)``, never the goal. Every
episode starts at ``start`` (default the corner ``(0, 0)``) and lasts exactly ``horizon`` steps (a time
limit: ``is_last`` at the horizon-th step, ``is_terminal`` never). Actions ``{0 stay, 1 x+1, 2 x-1,
3 y+1, 4 y-1}``; a move into the outer wall leaves the agent where it is. Reward 1.0 for every step
whose resulting cell is the goal, else 0 (so the best episode walks straight there and stays).

Trials. One goal for all ``episodes_per_trial`` episodes of a trial (each restarts at ``start``); after
the trial's last episode the env auto-resets into a new trial with a new goal. An agent that remembers
earlier episodes searches once and then goes straight to the goal: the point of the task.

Goal splits (independent of ``seed``): ``perm = np.random.default_rng(size).permutation(size * size)``
over cell ids ``y * size + x``; the first ``round(0.8 * size**2)`` are ``train``, the rest ``test``;
``all`` is every cell (``goal_cells(split, size)``). Each trial's goal is drawn uniformly from the split's
cells by the env's RNG, ``np.random.default_rng(seed)``: whenever envs start trials, one
``rng.integers(0, K, size=len(envs))`` draw gives their goals in env index order.

Observations (per env): ``position`` int64 ``(x, y)`` (``MultiDiscrete([size, size])``) and the contract's
flags and counters. Metrics (``info``, float32, valid where ``is_last``): ``success`` (1 if the goal was
reached in the episode), ``return_over_optimal`` (episode return over the optimal return for the goal; 1
when the goal is out of reach, optimal 0), ``steps_to_goal`` (1-based step of the first arrival,
``horizon + 1`` if never). Optimal return, with ``d`` the Manhattan distance start -> goal:
``horizon - d + 1`` if ``d >= 1`` else ``horizon``, 0 if ``d > horizon``.

API
---
``make(num_envs=1, seed=0, episodes_per_trial=4, size=10, horizon=100, split="train", start=(0, 0))
-> DarkroomEnv`` (``envs.contract.Env``, ``act_space = {"action": Discrete(5)}``). ``DarkroomEnv`` also
offers ``oracle_action() -> (N,) int64`` (the optimal policy: along x first, then y, stay on the goal),
``optimal_return() -> (N,) float32``, ``goal`` ``(N, 2)`` int64 (for oracles and tests only) and
``DarkroomEnv.goal_cells(split, size)``. ``AGENTS`` holds the scripted ``explorer``
(``envs.darkroom.agents.ExploreExploitAgent``). Same constructor arguments, seed and actions give
bit-identical observations. ``configs/env/darkroom.yaml`` documents the keys.
"""
from __future__ import annotations

from envs.contract import Env
from envs.darkroom.agents import ExploreExploitAgent
from envs.darkroom.env import SPLITS, DarkroomEnv, goal_cells, optimal_return

__all__ = ["AGENTS", "SPLITS", "DarkroomEnv", "ExploreExploitAgent", "availability", "goal_cells", "make",
           "optimal_return"]

AGENTS = {"explorer": ExploreExploitAgent}


def availability() -> tuple[bool, str]:
    return True, "embedded (NumPy only, no extra install)"


CHEAP_TO_BUILD = True  # envs.check_config builds one env to check a run's values before it starts


def make(num_envs: int = 1, seed: int = 0, episodes_per_trial: int = 4, size: int = 10, horizon: int = 100,
         split: str = "train", start=(0, 0), name: str | None = None) -> Env:
    """A batch of Darkroom envs (see the module docstring; ``name`` is the Hydra group's and is ignored)."""
    if name not in (None, "darkroom"):
        raise ValueError(f"env.name={name!r}: this is the darkroom backend")
    return DarkroomEnv(num_envs=num_envs, seed=seed, episodes_per_trial=episodes_per_trial, size=size,
                       horizon=horizon, split=split, start=start)
