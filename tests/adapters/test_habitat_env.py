"""envs/habitat's simulator glue (build_env, HabitatNav, SerialEnv) on a stand-in ``habitat`` module that
has habitat-lab's Env / dataset / simulator API: a flat floor, straight-line geodesics, and a semantic
frame showing the goal object when it is in front of the camera and near."""
from __future__ import annotations

import math
import sys
import types
from types import SimpleNamespace as NS

import numpy as np
import pytest

from envs.habitat.build import build_env
from envs.habitat.task import NavOptions

R = 16  # resolution


def make_dataset():
    """Two scenes, three episodes each; goals are chairs (category 1) with one view point each."""
    episodes = []
    for s, scene in enumerate(["data/scenes/A/A.basis.glb", "data/scenes/B/B.basis.glb"]):
        for e in range(3):
            goal_xz = np.array([3.0 + e, 2.0 * s])
            view = NS(agent_state=NS(position=[goal_xz[0] - 0.8, 0.0, goal_xz[1]]))
            goal = NS(object_id=str(40 + e), position=[goal_xz[0], 0.5, goal_xz[1]], view_points=[view])
            episodes.append(NS(scene_id=scene, goals=[goal], category=1,
                               start_position=np.array([0.0, 0.0, 2.0 * s]), start_heading=0.0))
    return NS(episodes=episodes, category_to_task_category_id={"bed": 0, "chair": 1, "plant": 2})


class StandInEnv:
    """habitat.Env's surface as HabitatNav uses it. Heading 0 looks along +x; turns are 30 degrees."""

    resets: list[str] = []

    def __init__(self, config, dataset):
        self.config, self.dataset = config, dataset
        self.episode_iterator = iter(dataset.episodes)
        self.sim = NS(get_agent_state=lambda: NS(position=self.position.copy()),
                      geodesic_distance=self._geodesic,
                      semantic_annotations=lambda: NS(objects=[NS(id=f"chair_{40 + e}", semantic_id=7 + e)
                                                               for e in range(3)] + [None]))

    def _geodesic(self, position, targets):
        return min(float(np.linalg.norm(np.asarray(position)[[0, 2]] - np.asarray(t)[[0, 2]])) for t in targets)

    def reset(self):
        self.episode = next(self.episode_iterator)
        StandInEnv.resets.append((self.episode.scene_id, self.dataset.episodes.index(self.episode)))
        self.position = self.episode.start_position.astype(float).copy()
        self.heading = self.episode.start_heading
        return self._observe()

    def step(self, action):
        name = action["action"]
        if name == "move_forward":
            self.position += 0.25 * np.array([math.cos(self.heading), 0.0, math.sin(self.heading)])
        elif name in ("turn_left", "turn_right"):
            self.heading += math.radians(30) * (1 if name == "turn_right" else -1)
        return self._observe()

    def _observe(self):
        goal = self.episode.goals[0]
        to_goal = np.asarray(goal.position)[[0, 2]] - self.position[[0, 2]]
        bearing = math.atan2(to_goal[1], to_goal[0]) - self.heading
        in_view = abs(math.atan2(math.sin(bearing), math.cos(bearing))) < math.radians(40)
        semantic = np.zeros((R, R, 1), np.int32)
        if in_view and np.linalg.norm(to_goal) < 3.0:
            semantic[4:12, 4:12] = 7 + int(goal.object_id) - 40
        rel = self.position - self.episode.start_position
        return {"rgb": np.full((R, R, 4), int(10 * self.position[0]) % 256, np.uint8),
                "depth": np.full((R, R, 1), float(np.linalg.norm(to_goal)), np.float32),
                "semantic": semantic, "objectgoal": np.array([self.episode.category]),
                "gps": np.array([rel[0], rel[2]], np.float32), "compass": np.array([self.heading], np.float32)}

    def close(self):
        pass


@pytest.fixture
def stand_in_habitat(monkeypatch):
    dataset = make_dataset()
    module = types.ModuleType("habitat")
    module.get_config = lambda path, overrides: NS(habitat=NS(dataset=NS(type="ObjectNav-v1")), path=path,
                                                   overrides=overrides)
    module.make_dataset = lambda kind, config: dataset
    module.Env = StandInEnv
    monkeypatch.setitem(sys.modules, "habitat", module)
    StandInEnv.resets = []
    return module


def make_env(num_envs=2, episodes_per_trial=2, max_steps=40, seed=0):
    return build_env(NavOptions(resolution=R, max_steps=max_steps), num_envs=num_envs,
                     episodes_per_trial=episodes_per_trial, seed=seed, dataset="hm3d", data_dir="/data",
                     split="val", gpu_device_id=0)


def test_spaces_and_first_observation(stand_in_habitat):
    env = make_env()
    obs = env.reset()
    assert env.obs_space["goal"].shape == (3,)  # the dataset's category count
    for key, space in env.obs_space.items():
        assert obs[key].shape == (2, *space.shape) and obs[key].dtype == space.dtype, key
    assert obs["goal"][:, 1].tolist() == [1.0, 1.0] and obs["rgb"].shape[-1] == 3
    assert env.sims[0].env.config.path == "benchmark/nav/objectnav/objectnav_hm3d.yaml"


def walk_to_goal_and_stop(env, max_steps=40):
    """Forward until the goal's view point is within 0.3 m, then stop (goals lie straight ahead)."""
    total = np.zeros(env.num_envs)
    for _ in range(max_steps):
        near = [sim.tracker.distance < 0.3 for sim in env.sims]
        obs, reward, done, info = env.step({"action": np.where(near, 0, 1)})
        total += reward
        if done.all():
            return obs, total, info
    raise AssertionError("never stopped")


def test_stopping_at_the_goal_succeeds_with_reward_and_spl(stand_in_habitat):
    env = make_env(num_envs=1)
    env.reset(seed=3)
    d0 = env.sims[0].tracker.shortest
    obs, total, info = walk_to_goal_and_stop(env)
    assert obs["is_terminal"].all() and obs["is_first"].all() and obs["episode_index"][0] == 1
    assert info["success"][0] == 1.0 and info["spl"][0] == pytest.approx(1.0, abs=1e-6)
    steps = info["episode_length"][0]
    assert total[0] == pytest.approx(2.0 - 0.001 * steps + d0 - info["distance_to_goal"][0], abs=1e-5)


def test_stopping_where_the_goal_is_not_visible_fails(stand_in_habitat):
    env = make_env(num_envs=1)
    env.reset()
    env.step({"action": np.array([2])})  # turn away: the goal leaves the view
    obs, reward, done, info = env.step({"action": np.array([0])})
    assert done[0] and obs["is_terminal"][0] and info["success"][0] == 0.0
    assert info["spl"][0] == 0.0 and reward[0] == pytest.approx(-0.001)


def test_step_cap_truncates_and_trials_stay_in_one_scene(stand_in_habitat):
    env = make_env(num_envs=1, episodes_per_trial=3, max_steps=4)
    env.reset(seed=1)
    ends = []
    for _ in range(4 * 6):
        obs, _, done, info = env.step({"action": np.array([2])})  # turning never ends an episode
        if done[0]:
            ends.append((bool(obs["is_terminal"][0]), info["episode_length"][0], bool(obs["is_trial_first"][0])))
    assert ends == [(False, 4.0, False), (False, 4.0, False), (False, 4.0, True)] * 2
    resets = StandInEnv.resets  # (scene, episode) per reset: 1 + 6 episodes
    assert len(resets) == 7
    for trial in (resets[0:3], resets[3:6]):
        assert len({scene for scene, _ in trial}) == 1  # one scene per trial
        assert len({episode for _, episode in trial}) == 3  # its three episodes, each once
