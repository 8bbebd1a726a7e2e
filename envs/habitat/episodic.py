"""One habitat-lab ``Env`` as an ``Episodic``: the house navigation task on HM3D / HSSD scenes.

Imports habitat at construction only; everything it computes beyond the simulator calls lives in
task.py, metrics.py and scenes.py, which are tested without habitat.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from envs.habitat.metrics import NavEpisode, habitat_judge
from envs.habitat.scenes import TrialPlan, episodes_by_scene, scene_name
from envs.serial import Transition
from envs.habitat.task import STOP, NavOptions, convert_observation, goal_semantic_ids, habitat_action, \
    visible_goal_pixels


class HabitatNav:
    """Trials of episodes in one scene at a time on a habitat-lab ObjectNav ``Env``."""

    def __init__(self, config: Any, dataset: Any, options: NavOptions, scenes: tuple[str, ...]):
        import habitat

        wanted = set(scenes)
        # Our own list, never handed to habitat: habitat.Env's EpisodeIterator shuffles the list it is given
        # in place (habitat/core/dataset.py:398-399@0.3.320260507), which would move the plan's indices.
        self.episodes = [e for e in dataset.episodes if scene_name(e.scene_id) in wanted]
        if not self.episodes:
            raise ValueError(f"no episodes of scenes {sorted(wanted)} in the dataset")
        scene_dataset = config.habitat.simulator.scene_dataset
        for episode in self.episodes:
            # habitat.Env replaces the simulator's scene_dataset with the episode's own at construction
            # and reset (habitat/core/env.py:104-108@0.3.320260507): make them say what we configured.
            episode.scene_dataset_config = scene_dataset
        dataset.episodes = list(self.episodes)
        self.plan = TrialPlan(episodes_by_scene([e.scene_id for e in self.episodes]))
        self.options = options
        self.num_categories = len(dataset.category_to_task_category_id)
        self.env = habitat.Env(config=config, dataset=dataset)
        self.tracker: NavEpisode | None = None
        self._goal_ids: set[int] = set()
        self._targets: list[list[float]] = []

    def new_trial(self, rng: np.random.Generator) -> None:
        self.plan.new_trial(rng)

    def new_episode(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        episode = self.episodes[self.plan.next_episode(rng)]
        self.env.episode_iterator = iter([episode])
        raw = self.env.reset()
        sim = self.env.sim
        # Distances are measured to the goals' view points (navigable, object in view), as habitat does.
        self._targets = [list(vp.agent_state.position) for g in episode.goals for vp in (g.view_points or [])]
        if not self._targets:
            self._targets = [list(g.position) for g in episode.goals]
        annotations = [(o.id, o.semantic_id) for o in sim.semantic_annotations().objects if o is not None]
        self._goal_ids = goal_semantic_ids([g.object_id for g in episode.goals], annotations)
        position = sim.get_agent_state().position
        self.tracker = NavEpisode(position, sim.geodesic_distance(position, self._targets),
                                  success_distance=self.options.success_distance,
                                  success_reward=self.options.success_reward,
                                  slack_reward=self.options.slack_reward)
        return self._convert(raw)

    def step(self, action: Any) -> Transition:
        assert self.tracker is not None, "new_episode() must come first"
        raw = self.env.step({"action": habitat_action(action)})
        sim = self.env.sim
        position = sim.get_agent_state().position
        reward = self.tracker.move(position, sim.geodesic_distance(position, self._targets))
        stopped = int(action) == STOP
        if stopped:
            visible = visible_goal_pixels(raw["semantic"], self._goal_ids) >= self.options.min_visible_pixels
            success = self.tracker.succeeded(True, visible)
            reward += self.options.success_reward * success
            metrics = {**self.tracker.metrics(success), **habitat_judge(self.env.get_metrics())}
            return Transition(self._convert(raw), reward, terminal=True, metrics=metrics)
        if self.tracker.steps >= self.options.max_steps:
            metrics = {**self.tracker.metrics(False), **habitat_judge(self.env.get_metrics())}
            return Transition(self._convert(raw), reward, truncated=True, metrics=metrics)
        return Transition(self._convert(raw), reward)

    def close(self) -> None:
        self.env.close()

    def _convert(self, raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return convert_observation(raw, self.num_categories, self.options.max_depth)
