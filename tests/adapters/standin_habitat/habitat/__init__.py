"""A stand-in ``habitat`` package (put on sys.path by tests/adapters/test_habitat_env.py, so that the env
processes that envs/habitat/process.py spawns import it too): habitat-lab's Env / dataset / config surface
on a flat floor with straight-line geodesics, a semantic frame that shows the goal when it is ahead and near.

What it fakes follows habitat-lab 0.3.320260507 (file:line in that wheel); tests/real_packages checks the
same behaviours against the real package:
- ``get_config`` parses the overrides with Hydra's own grammar (habitat/config/default.py uses Hydra's
  compose), so an override habitat would reject is rejected here.
- ``Env`` builds an EpisodeIterator over ``dataset.episodes`` that shuffles that very list in place
  (habitat/core/dataset.py:398-399) and seeds only ``if seed:`` (dataset.py:380), then takes its first
  episode and copies the episode's ``scene_dataset_config`` into the simulator config (core/env.py:102-108).
- one simulator per process: habitat-sim does not support a second (habitat-sim #1292, #1784, #1741).
- ``get_metrics`` returns the ObjectNav measures (success, spl, soft_spl, distance_to_goal) by name.
- ``rgb`` has 3 channels: habitat-lab cuts habitat-sim's RGBA to RGBSENSOR_DIMENSION = 3
  (habitat/sims/habitat_simulator/habitat_simulator.py:111, 135).
"""
from __future__ import annotations

import math
import os
import random
from types import SimpleNamespace as NS

import numpy as np

R = 16  # resolution
_simulators_in_process = 0


def get_config(path, overrides):
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(overrides)  # raises on what Hydra rejects
    values = {o.key_or_group: o.value() for o in parsed}
    simulator = NS(scene_dataset=values["habitat.simulator.scene_dataset"], scene=None)
    return NS(habitat=NS(dataset=NS(type="ObjectNav-v1"), simulator=simulator, seed=values["habitat.seed"]),
              path=path, overrides=overrides)


def make_dataset(kind, config):
    """Two scenes, three episodes each, in file order A0 A1 A2 B0 B1 B2; goals are chairs (category 1)."""
    episodes = []
    for s, scene in enumerate(["data/scenes/A/A.basis.glb", "data/scenes/B/B.basis.glb"]):
        for e in range(3):
            goal_xz = np.array([3.0 + e, 2.0 * s])
            view = NS(agent_state=NS(position=[goal_xz[0] - 0.8, 0.0, goal_xz[1]]))
            goal = NS(object_id=str(40 + e), position=[goal_xz[0], 0.5, goal_xz[1]], view_points=[view])
            episodes.append(NS(scene_id=scene, goals=[goal], category=1, number=(s, e),
                               scene_dataset_config="default",
                               start_position=np.array([0.0, 0.0, 2.0 * s]), start_heading=0.0))
    return NS(episodes=episodes, category_to_task_category_id={"bed": 0, "chair": 1, "plant": 2})


class Env:
    """habitat.Env's surface as HabitatNav uses it. Heading 0 looks along +x; turns are 30 degrees."""

    def __init__(self, config, dataset):
        global _simulators_in_process
        if _simulators_in_process:
            raise RuntimeError(f"a second habitat-sim simulator in process {os.getpid()}")
        _simulators_in_process += 1
        self.config, self.dataset = config, dataset
        seed = config.habitat.seed
        if seed:
            random.seed(seed)
        random.shuffle(dataset.episodes)
        self.episode_iterator = iter(dataset.episodes)
        first = next(self.episode_iterator)
        config.habitat.simulator.scene_dataset = first.scene_dataset_config
        self.sim = NS(get_agent_state=lambda: NS(position=self.position.copy()),
                      geodesic_distance=self._geodesic,
                      semantic_annotations=lambda: NS(objects=[NS(id=f"chair_{40 + e}", semantic_id=7 + e)
                                                               for e in range(3)] + [None]))

    def _geodesic(self, position, targets):
        return min(float(np.linalg.norm(np.asarray(position)[[0, 2]] - np.asarray(t)[[0, 2]])) for t in targets)

    def reset(self):
        self.episode = next(self.episode_iterator)
        # The scene dataset a reset loads is the episode's (core/env.py:104-108).
        assert self.episode.scene_dataset_config == self.config.habitat.simulator.scene_dataset, \
            "the episode's scene_dataset_config replaces the configured scene dataset"
        self.position = self.episode.start_position.astype(float).copy()
        self.heading = self.episode.start_heading
        self.path = 0.0
        return self._observe()

    def step(self, action):
        name = action["action"]
        if name == "move_forward":
            self.position += 0.25 * np.array([math.cos(self.heading), 0.0, math.sin(self.heading)])
            self.path += 0.25
        elif name in ("turn_left", "turn_right"):
            self.heading += math.radians(30) * (1 if name == "turn_right" else -1)
        return self._observe()

    def get_metrics(self):
        view = self.episode.goals[0].view_points[0].agent_state.position
        distance = self._geodesic(self.position, [view])
        start = self._geodesic(self.episode.start_position, [view])
        success = float(distance <= 0.1)
        return {"distance_to_goal": distance, "success": success,
                "spl": success * start / max(self.path, start), "soft_spl": 0.0, "distance_to_goal_reward": 0.0}

    def _observe(self):
        goal = self.episode.goals[0]
        to_goal = np.asarray(goal.position)[[0, 2]] - self.position[[0, 2]]
        bearing = math.atan2(to_goal[1], to_goal[0]) - self.heading
        in_view = abs(math.atan2(math.sin(bearing), math.cos(bearing))) < math.radians(40)
        semantic = np.zeros((R, R, 1), np.int32)
        if in_view and np.linalg.norm(to_goal) < 3.0:
            semantic[4:12, 4:12] = 7 + int(goal.object_id) - 40
        rel = self.position - self.episode.start_position
        rgb = np.zeros((R, R, 3), np.uint8)
        rgb[..., 0], rgb[..., 1] = self.episode.number  # which episode is showing: (scene, index in scene)
        return {"rgb": rgb, "depth": np.full((R, R, 1), float(np.linalg.norm(to_goal)), np.float32),
                "semantic": semantic, "objectgoal": np.array([self.episode.category]),
                "gps": np.array([rel[0], rel[2]], np.float32), "compass": np.array([self.heading], np.float32)}

    def close(self):
        pass
