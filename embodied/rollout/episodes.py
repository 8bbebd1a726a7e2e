"""The one episode loop outside training: an actor drives a batched env of the contract (envs/contract.py)
until every env has finished its quota of episodes. ``embodied eval`` (evaluation/runner.py) and
``embodied sim`` both run it, so their episodes, seeds and rows cannot drift apart.

Each finished episode within its env's quota comes out as a row as soon as its step is taken:
``{"env", "episode_index", "return", **metrics}`` with the env's own ``metric_keys`` (a backend's metrics,
not a fixed list). An env that has met its quota keeps stepping with the batch, its episodes unreported,
so every env sees the same steps whatever the others' quotas.

Hooks see every step (episode files, video): ``reset(env, obs)`` after ``env.reset``, ``before(env, obs,
actions)`` while the env is still in the state ``obs`` describes, ``after(env, actions, obs, reward, info)``
once the step is taken, before its rows come out.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from embodied.rollout.actor import Actor

if TYPE_CHECKING:
    from envs.contract import Env, Obs

Row = dict[str, Any]


class Hook:
    """A per-step observer of the loop; override what it needs."""

    def reset(self, env: Env, obs: Obs) -> None:
        pass

    def before(self, env: Env, obs: Obs, actions: np.ndarray) -> None:
        pass

    def after(self, env: Env, actions: np.ndarray, obs: Obs, reward: np.ndarray,
              info: dict[str, np.ndarray]) -> None:
        pass


class Episodes:
    """Iterating resets ``env`` with ``seed`` and yields one row per episode until every env ``i`` has
    finished ``quota[i]`` (an int: the same for all); ``steps`` counts the batched steps taken so far.

    ``step_quota``: an env has also met its quota with the first episode that ends at or after that many
    steps, so every env's episodes span at least ``step_quota`` steps however short they are (long trials
    measured by steps: a fixed number of episodes would end the trials of quick successes early and leave
    the later steps to the failures)."""

    def __init__(self, env: Env, actor: Actor, quota: int | Sequence[int] | np.ndarray, seed: int,
                 hooks: Sequence[Hook] = (), step_quota: int | None = None):
        self.env, self.actor, self.seed, self.hooks = env, actor, seed, list(hooks)
        self.quota = np.broadcast_to(np.asarray(quota, np.int64), (env.num_envs,))
        self.step_quota = step_quota
        self.steps = 0

    def __iter__(self) -> Iterator[Row]:
        env, actor, hooks = self.env, self.actor, self.hooks
        done = np.zeros(env.num_envs, np.int64)  # episodes reported (the quota where it was met by steps)
        returns = np.zeros(env.num_envs, np.float64)
        obs = env.reset(seed=self.seed)
        actor.reset(env, obs)
        for hook in hooks:
            hook.reset(env, obs)
        while (done < self.quota).any():
            episode = np.asarray(obs["episode_index"]).copy()
            actions = actor.act(env, obs)
            for hook in hooks:
                hook.before(env, obs, actions)
            obs, reward, last, info = env.step({"action": actions})
            actor.commit(actions, reward)
            self.steps += 1
            for hook in hooks:
                hook.after(env, actions, obs, reward, info)
            returns += reward
            last = np.asarray(last, bool)
            for i in np.flatnonzero(last & (done < self.quota)):
                done[i] += 1
                if self.step_quota is not None and self.steps >= self.step_quota:
                    done[i] = self.quota[i]
                yield {"env": int(i), "episode_index": int(episode[i]), "return": float(returns[i]),
                       **{k: float(info[k][i]) for k in env.metric_keys}}
            returns[last] = 0.0
