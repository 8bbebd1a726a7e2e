"""Actors: what chooses the actions of a batched env outside training (``embodied eval``, ``embodied sim``,
the benchmarks' probes): the oracle, a uniform random policy, a backend's scripted reference (its module's
``AGENTS``, e.g. Darkroom's ``explorer``) or a trained checkpoint. (Not Ray actors: those are the env
workers of ``embodied.rollout.worker``.)

An actor acts on a whole env batch and owns what carries over between its steps (a recurrent state, the
previous action and reward): ``reset(env, obs)`` after ``env.reset``, ``act(env, obs)`` gives the
proposed action per env, ``commit(actions, reward)`` after the step tells it what was actually taken and
what it earned (few-shot imitation overrides the actor with the oracle for the first episodes of a trial,
and a recurrent policy must see the oracle's actions as its previous actions), ``attention()`` gives per
env the attention mass of the last step over the earlier steps of the trial, or None where there is none.
The scripted references in ``envs`` have this shape without importing it (``envs`` never imports
``embodied``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

BUILTIN = ("oracle", "random")


class Actor(Protocol):
    """The shape every actor has; subclasses inherit the no-op ``reset``, ``commit`` and ``attention``."""

    name: str

    def reset(self, env, obs: dict[str, np.ndarray]) -> None:
        pass

    def act(self, env, obs: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def commit(self, actions: np.ndarray, reward: np.ndarray) -> None:
        pass

    def attention(self) -> list[np.ndarray | None] | None:
        return None


class OracleActor(Actor):
    """The simulator's shortest-path oracle (best next action, including turning to see and stopping)."""
    name = "oracle"

    def act(self, env, obs):
        return np.asarray(env.oracle_action(), np.int64)


class RandomActor(Actor):
    """Uniform over the discrete actions, seeded."""
    name = "random"

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)

    def act(self, env, obs):
        return self.rng.integers(0, env.act_space["action"].n, size=len(obs["is_first"]), dtype=np.int64)


class PolicyActor(Actor):
    """A trained :class:`embodied.policy.interface.Policy` with its recurrent state over the whole trial.

    Actions are sampled from the policy's distribution (``greedy=True``: arg-max). ``attention()`` reads
    ``Policy.attention`` of the state after each step: per env, the mass the newest step put on each step of
    the trial so far, oldest first, averaged over heads and layers (``layer_attention()``: per layer).
    """

    def __init__(self, policy, name: str = "agent", max_steps: int = 4096, greedy: bool = False,
                 seed: int = 0, device: str = "cpu"):
        import torch

        self.torch, self.policy, self.name = torch, policy.eval(), name
        self.max_steps, self.greedy, self.device = max_steps, greedy, device
        self.gen = torch.Generator(device="cpu").manual_seed(seed)
        self.state = None
        self.prev_action = self.prev_reward = None

    def reset(self, env, obs):
        n = len(obs["is_first"])
        self.state = self.policy.initial_state(n, self.max_steps, self.device)
        self.prev_action = np.zeros(n, np.int64)
        self.prev_reward = np.zeros(n, np.float32)

    def act(self, env, obs):
        torch = self.torch
        first = np.asarray(obs["is_trial_first"], bool)
        self.prev_action[first], self.prev_reward[first] = 0, 0.0
        inputs = {k: torch.as_tensor(np.asarray(v), device=self.device) for k, v in obs.items()}
        inputs["prev_action"] = torch.as_tensor(self.prev_action, device=self.device)
        inputs["prev_reward"] = torch.as_tensor(self.prev_reward, device=self.device)
        reset = torch.as_tensor(first, device=self.device)
        acted = self.policy.act(inputs, self.state, reset, self.gen, self.greedy)
        self.state = acted.state
        return acted.action.cpu().numpy().astype(np.int64)

    def commit(self, actions, reward):
        self.prev_action = np.asarray(actions, np.int64).copy()
        self.prev_reward = np.asarray(reward, np.float32).copy()

    def layer_attention(self) -> list[list[np.ndarray]] | None:
        """Per layer, per env: the latest step's attention over the steps of its trial (heads averaged)."""
        probs = None if self.state is None else self.policy.attention(self.state)
        if probs is None:
            return None
        lengths = self.state.lengths.tolist()
        return [[p[b, :, :n].mean(0).float().cpu().numpy() for b, n in enumerate(lengths)] for p in probs]

    def attention(self) -> list[np.ndarray] | None:
        layers = self.layer_attention()
        return None if layers is None else [np.mean(env, axis=0) for env in zip(*layers)]


class FewShot(Actor):
    """Few-shot imitation: the oracle drives the first ``n`` episodes of each trial, the actor the rest.

    The actor still steps on every observation (its context holds the demonstrations).
    """

    def __init__(self, actor: Actor, n: int):
        self.actor, self.n, self.oracle = actor, n, OracleActor()
        self.name = actor.name

    def reset(self, env, obs):
        self.actor.reset(env, obs)

    def act(self, env, obs):
        own = self.actor.act(env, obs)
        demo = np.asarray(obs["episode_index"]) < self.n
        return np.where(demo, self.oracle.act(env, obs), own) if demo.any() else own

    def commit(self, actions, reward):
        self.actor.commit(actions, reward)

    def attention(self):
        return self.actor.attention()


class SuccessWays:
    """Per env, the actions of the current episode and of the trial's first success; the success's next action
    while the current episode has so far taken exactly its actions (in a deterministic env whose episodes of a
    trial start alike, the agent then stands where it stood in the success)."""

    def __init__(self, n: int):
        self.current: list[list[int]] = [[] for _ in range(n)]
        self.success: list[list[int] | None] = [None] * n

    def __len__(self) -> int:
        return len(self.current)

    def begin(self, i: int, new_trial: bool, succeeded: bool) -> None:
        """Env ``i`` starts an episode; ``succeeded``: the one that just ended found the goal."""
        if new_trial:
            self.success[i] = None
        elif self.success[i] is None and succeeded and self.current[i]:
            self.success[i] = self.current[i]
        self.current[i] = []

    def next(self, i: int) -> int | None:
        """The success's next action while env ``i`` is on its way, else None."""
        way, step = self.success[i], len(self.current[i])
        if way is not None and step < len(way) and way[:step] == self.current[i]:
            return way[step]
        return None

    def record(self, actions: np.ndarray) -> None:
        for i, a in enumerate(np.asarray(actions)):
            self.current[i].append(int(a))


class ReplaySuccess(Actor):
    """A memory of actions only: once an episode of the trial succeeds, every later episode replays its actions.

    In a deterministic env whose episodes of a trial start alike (the house with ``start_per=trial``), copying
    the way that found the goal finds it again, so this bounds what remembering the trial can add to ``actor``
    without any navigation: its late-episode success over ``actor``'s own is the copy ceiling. The wrapped actor
    still sees every step (its state stays its own). Success is read from the reward of an episode's last step
    (``success_reward``: the house pays +2, its shaping moves at most 0.25 per step). As an imitation teacher
    (``trainer.imitation_teacher=replay:explorer_memory``) it is told the agent's actions (``commit``), copies the
    agent's own first success, and only while the agent is still on that way; elsewhere ``actor`` labels (its
    forgetful twin: ``trainer.imitation_focus`` weighs the copied labels).
    """

    def __init__(self, actor: Actor, success_reward: float = 1.0, forgetful: str | None = None):
        self.actor, self.success_reward = actor, success_reward
        self.name = f"replay:{actor.name}"
        self.forgetful = forgetful  # the actor spec without the copy (a teacher's twin, trainer.imitation_focus)
        self.ways = SuccessWays(0)
        self.last_reward = np.zeros(0, np.float32)

    def reset(self, env, obs):
        self.actor.reset(env, obs)
        n = len(obs["is_first"])
        self.ways, self.last_reward = SuccessWays(n), np.zeros(n, np.float32)

    def act(self, env, obs):
        if len(self.ways) != len(obs["is_first"]):  # a teacher is never reset: its first observation does
            self.reset(env, obs)
        out = self.actor.act(env, obs).copy()
        for i in range(len(out)):
            if obs["is_first"][i]:
                self.ways.begin(i, bool(obs["is_trial_first"][i]), self.last_reward[i] >= self.success_reward)
            copied = self.ways.next(i)
            if copied is not None:
                out[i] = copied
        return out

    def commit(self, actions, reward):
        self.ways.record(actions)
        self.last_reward = np.asarray(reward, np.float32).copy()
        self.actor.commit(actions, reward)

    def attention(self):
        return self.actor.attention()


def make_actor(policy: str, seed: int = 0, fewshot: int = 0, max_steps: int = 4096, greedy: bool = False,
               device: str = "cpu", backend: str = "house") -> Actor:
    """``"oracle"``, ``"random"``, a scripted reference of ``backend`` or a checkpoint path (loaded with the
    trainer's ``load_policy``); ``"replay:" + any of these`` wraps it in :class:`ReplaySuccess`."""
    import envs

    if policy.startswith("replay:"):
        spec = policy[len("replay:"):]
        return ReplaySuccess(make_actor(spec, seed, fewshot, max_steps, greedy, device, backend), forgetful=spec)

    scripted = {} if policy in BUILTIN else envs.scripted_agents(backend)
    if policy == "oracle":
        actor: Actor = OracleActor()
    elif policy == "random":
        actor = RandomActor(seed)
    elif policy in scripted:
        actor = scripted[policy](seed=seed)
    else:
        from embodied.learner.checkpoint import load_policy

        net, _ = load_policy(policy, device)
        actor = PolicyActor(net, name=Path(policy).stem, max_steps=max_steps, greedy=greedy, seed=seed,
                            device=device)
    return FewShot(actor, fewshot) if fewshot > 0 else actor
