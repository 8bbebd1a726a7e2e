"""envs.minedojo.make (MineDojoRL in a SerialEnv) on a stand-in ``minedojo`` module whose tasks run in the
block world of block_world.py: discrete RL actions reach MineDojo as MultiDiscrete vectors, episodes end
on success or at the task's step budget, trials keep a world seed."""
from __future__ import annotations

import sys
import types

import numpy as np
import pytest

import envs.minedojo as backend
from adapter_samples import RECIPES
from block_world import BlockWorld
from envs.minedojo.actions import RL_ACTIONS, noop
from envs.minedojo.observation import VECTOR_SIZE, inventory_counts


class StandInTask:
    """What ``minedojo.make(task_id, ...)`` returns, for harvest_1_log: a tree two blocks ahead."""

    made: list[dict] = []

    def __init__(self, book, **kwargs):
        self.book, self.kwargs = book, kwargs
        self.is_successful = False  # minedojo/tasks/meta/base.py:72-79@0.1, set at each step (:119)
        StandInTask.made.append(kwargs)

    def reset(self):
        self.world = BlockWorld(self.book, blocks={(0, 64, 3): "log"})
        self.is_successful = False
        return self.world.obs

    def step(self, action):
        action = np.asarray(action)
        assert action.shape == (8,)
        self.world.step(action)
        # Two no-op ticks follow drop/craft/equip/place/destroy, and their reward replaces the action's
        # (minedojo/sim/wrappers/ar_nn/nn_action_space_wrapper.py:276-279@0.1).
        for _ in range(2 if action[5] in {2, 4, 5, 6, 7} else 0):
            self.world.step(noop())
        self.is_successful = inventory_counts(self.world.obs).get("log", 0) >= 1
        return self.world.obs, float(self.is_successful), self.is_successful, {}

    def close(self):
        pass


@pytest.fixture
def stand_in_minedojo(monkeypatch, craft_book):
    mc = types.SimpleNamespace(
        ALL_CRAFT_SMELT_ITEMS=list(craft_book.items), ALL_TABLE_CRAFT_ONLY_ITEMS_NN_ACTIONS=sorted(craft_book.table),
        ALL_SMELT_ITEMS_NN_ACTIONS=sorted(craft_book.smelt),
        CRAFTING_RECIPES_BY_OUTPUT={k: [{"ingredients": r} for r in v] for k, v in RECIPES.items()},
        SMELTING_RECIPES_BY_OUTPUT={})
    tasks = types.ModuleType("minedojo.tasks")
    tasks.ALL_TASKS_SPECS = {"harvest_1_log": {"prompt": "obtain log", "__cls__": "harvest", "target_names": "log"}}

    def make(task_id, **kw):
        # minedojo 0.1 pops these from the module-wide spec (minedojo/tasks/__init__.py:484-494@0.1).
        spec = tasks.ALL_TASKS_SPECS[task_id]
        spec.pop("prompt"), spec.pop("__cls__")
        return StandInTask(craft_book, task_id=task_id, **kw)

    module = types.ModuleType("minedojo")
    module.make = tasks.make = make
    for name, mod in {"minedojo": module, "minedojo.tasks": tasks, "minedojo.sim": types.ModuleType("minedojo.sim"),
                      "minedojo.sim.mc_meta": types.ModuleType("minedojo.sim.mc_meta")}.items():
        monkeypatch.setitem(sys.modules, name, mod)
    sys.modules["minedojo.sim.mc_meta"].mc = mc
    monkeypatch.setattr(backend, "_problems", lambda: [])
    StandInTask.made = []


def act(*names):
    return [{"action": np.array([RL_ACTIONS.index(n)])} for n in names]


def test_harvest_a_log_with_rl_actions(stand_in_minedojo):
    env = backend.make(num_envs=1, episodes_per_trial=2, task="harvest_1_log", image_size=(16, 24))
    obs = env.reset(seed=0)
    assert obs["rgb"].shape == (1, 16, 24, 3) and obs["vector"].shape == (1, VECTOR_SIZE)
    assert StandInTask.made[0]["task_id"] == "harvest_1_log" and StandInTask.made[0]["fast_reset"]
    plan = act("forward", "forward", *["look_down"] * 4, *["attack"] * 3)
    for step in plan[:-1]:
        obs, reward, done, info = env.step(step)
        assert not done[0]
    obs, reward, done, info = env.step(plan[-1])
    assert done[0] and obs["is_terminal"][0] and not obs["is_trial_first"][0]
    assert (info["success"][0], info["episode_length"][0], info["episode_return"][0]) == (1.0, 9.0, 1.0)
    assert reward[0] == 1.0 and obs["episode_index"][0] == 1


def test_budget_truncates_and_a_trial_keeps_its_world(stand_in_minedojo, monkeypatch):
    from envs.minedojo import tasks

    monkeypatch.setitem(tasks.TASKS, "harvest_1_log", tasks.Task("harvest_1_log", "log", 1, budget=5))
    env = backend.make(num_envs=1, episodes_per_trial=2, task="harvest_1_log", image_size=(16, 24))
    env.reset(seed=0)
    ends = []
    for step in act(*["turn_left"] * 10):
        obs, _, done, info = env.step(step)
        if done[0]:
            ends.append((bool(obs["is_terminal"][0]), info["success"][0], bool(obs["is_trial_first"][0])))
    assert ends == [(False, 0.0, False), (False, 0.0, True)]
    seeds = [m["world_seed"] for m in StandInTask.made]
    assert len(seeds) == 2 and seeds[0] != seeds[1]  # one world per trial, a new one after it


def test_bad_task_fails_before_the_simulator():
    with pytest.raises(ValueError, match="minedojo is not installed"):
        backend.make(task="harvest_1_diamond")
