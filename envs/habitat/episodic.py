"""One habitat-lab ``Env`` as an ``Episodic``: the house navigation task on HM3D / HSSD scenes.

Imports habitat at construction only; everything it computes beyond the simulator calls lives in
task.py, metrics.py and scenes.py, which are tested without habitat.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from envs.habitat.metrics import NavEpisode
from envs.habitat.scenes import TrialPlan
from envs.serial import Transition
from envs.habitat.task import STOP, NavOptions, convert_observation, goal_semantic_ids, habitat_action, \
    visible_goal_pixels


class HabitatNav:
    """Trials of episodes in one scene at a time on a habitat-lab ObjectNav ``Env``."""

    def __init__(self, config: Any, dataset: Any, plan: TrialPlan, options: NavOptions, num_categories: int):
        import habitat

        self.env = habitat.Env(config=config, dataset=dataset)
        self.episodes = dataset.episodes
        self.plan = plan
        self.options = options
        self.num_categories = num_categories
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
            return Transition(self._convert(raw), reward, terminal=True, metrics=self.tracker.metrics(success))
        if self.tracker.steps >= self.options.max_steps:
            return Transition(self._convert(raw), reward, truncated=True, metrics=self.tracker.metrics(False))
        return Transition(self._convert(raw), reward)

    def close(self) -> None:
        self.env.close()

    def _convert(self, raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return convert_observation(raw, self.num_categories, self.options.max_depth)
