"""Any gymnasium environment behind the env contract (envs/contract.py), with trials of fixed tasks.

``id`` names the env: a registered gymnasium id (``"CartPole-v1"``, built with ``gymnasium.make(id,
**kwargs)``), or ``"package.module:ClassName"``, a ``gymnasium.Env`` subclass imported and called with
``**kwargs`` (when the module has no such attribute but registers ``ClassName`` as an id on import, as
``"ale_py:ALE/Pong-v5"``, that id is made). This package is ``envs.gym``: it never shadows ``gymnasium``.

Observations (per env, no batch dimension): a ``Dict`` observation space gives its keys as they are (one
level); any other space gives the key ``obs``. Supported spaces: ``Box`` (dtype kept), ``Discrete``
(delivered as int64 scalars, values as the env gives them, ``start`` included), ``MultiDiscrete``,
``MultiBinary``. Text, Graph, Sequence, Tuple and Dict/Tuple nested in a Dict raise ``ValueError``, as does a
key that collides with the contract's flags and counters (``envs.contract.flag_spaces()``).

Actions: the env's action space must be ``Discrete(n, start)``; ``act_space = {"action": Discrete(n)}``
and action ``a`` in 0..n-1 is sent to the env as ``a + start``.

Trials: each env's trial has a *task seed*; every episode of the trial starts with
``reset(seed=task_seed)``, so the task (CartPole's initial state, a procedural env's level) is the same
for all ``episodes_per_trial`` episodes; the next trial draws a new task seed. After that reset the env's
``np_random`` is reseeded from the batch's stream, so stochastic dynamics are fresh each episode rather
than replayed. ``task_seed`` holds the current ones, (N,) int64.

Splits of task seeds (deterministic and disjoint), seeds in [0, 2**31): ``test`` = seeds divisible by 5,
``train`` = the others, ``all`` = any. Task seeds are drawn uniformly from the split by the env's seeded
stream (``reset(seed)``; one stream per env index), so runs are reproducible.

Episodes end when the env terminates or truncates (``gymnasium.make`` applies the id's registered step
limit) or after ``max_steps`` steps when that is set; a truncation or ``max_steps`` cap gives
``is_last & ~is_terminal``. A class named by ``module:Class`` has no registered limit: set ``max_steps``
if it never ends episodes itself.

Metrics (``info``, valid where ``is_last``): ``episode_return`` and ``episode_length``. No ``success``
metric: whether an env reports ``info["is_success"]`` is not known at construction, and ``metric_keys``
is fixed then.

API
---
``make(num_envs=1, seed=0, episodes_per_trial=8, id="CartPole-v1", split="train", max_steps=None,
kwargs=None) -> GymTrialEnv`` (``envs.contract.Env``). ``configs/env/gym.yaml`` documents the keys.
Same constructor arguments, seed and actions give bit-identical observations.
"""
from __future__ import annotations

import importlib.util

from envs.contract import Env


def availability() -> tuple[bool, str]:
    if importlib.util.find_spec("gymnasium") is None:
        return False, "pip install gymnasium"
    import gymnasium

    return True, f"gymnasium {gymnasium.__version__} (registered ids or 'package.module:ClassName')"


CHEAP_TO_BUILD = True  # envs.check_config builds one env to check a run's values before it starts


def make(num_envs: int = 1, seed: int = 0, episodes_per_trial: int = 8, id: str = "CartPole-v1",
         split: str = "train", max_steps: int | None = None, kwargs: dict | None = None,
         name: str | None = None) -> Env:
    """A batch of ``num_envs`` copies of the gymnasium env ``id`` (see the module docstring)."""
    from envs.gym.env import GymTrialEnv

    return GymTrialEnv(num_envs=num_envs, seed=seed, episodes_per_trial=episodes_per_trial, id=id, split=split,
                       max_steps=max_steps, kwargs=kwargs)
