"""Reward and episode metrics of the navigation task (success, SPL, soft-SPL, distance to goal, length).

Definitions (as envs/house and ReLIC use them): success = the agent called stop within
``success_distance`` geodesic metres of a goal instance with the instance visible; SPL =
S * l / max(p, l) with l the geodesic start-to-goal distance and p the length of the path walked;
soft-SPL replaces S with max(0, 1 - d_T / l). Reward per step: slack + decrease of the geodesic
distance to the nearest goal, + ``success_reward`` on success.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

# habitat-lab's own measures (its ObjectNav benchmark's task.measurements), reported beside ours so that
# numbers compare with published ObjectNav results; habitat's success needs no visibility check.
HABITAT_MEASURES = ("success", "spl", "soft_spl", "distance_to_goal")
METRIC_KEYS = ("success", "spl", "soft_spl", "distance_to_goal", "episode_length",
               *(f"habitat_{k}" for k in HABITAT_MEASURES))


def habitat_judge(measures: Mapping[str, object]) -> dict[str, float]:
    """habitat-lab's ``Env.get_metrics()`` as ``habitat_<measure>`` entries; names a measure it lacks."""
    missing = [k for k in HABITAT_MEASURES if k not in measures]
    if missing:
        raise KeyError(f"habitat-lab's get_metrics() lacks {missing} (has {sorted(measures)}); "
                       "the benchmark config must keep its ObjectNav measurements")
    return {f"habitat_{k}": float(measures[k]) for k in HABITAT_MEASURES}


def spl(success: bool, shortest: float, path: float) -> float:
    if not success:
        return 0.0
    return 1.0 if shortest <= 0 else shortest / max(path, shortest)


def soft_spl(distance: float, shortest: float, path: float) -> float:
    if shortest <= 0:
        return 1.0 if distance <= 0 else 0.0
    progress = max(0.0, 1.0 - distance / shortest)
    return progress * shortest / max(path, shortest)


class NavEpisode:
    """Tracks one episode: path length, distance to goal, shaped reward and the final metrics."""

    def __init__(self, start_position: np.ndarray, start_distance: float, *, success_distance: float,
                 success_reward: float, slack_reward: float):
        if not math.isfinite(start_distance):
            raise ValueError("the episode's goal is unreachable from its start (infinite geodesic distance)")
        self.position = np.asarray(start_position, np.float64)
        self.shortest = float(start_distance)
        self.distance = float(start_distance)
        self.path = 0.0
        self.steps = 0
        self.success_distance = success_distance
        self.success_reward = success_reward
        self.slack_reward = slack_reward

    def move(self, position: np.ndarray, distance: float) -> float:
        """Record the agent's new position and geodesic distance; return this step's shaped reward."""
        position = np.asarray(position, np.float64)
        self.path += float(np.linalg.norm(position - self.position))
        self.position = position
        self.steps += 1
        # An unreachable reading (agent off the navmesh) keeps the last distance rather than a jump to inf.
        if not math.isfinite(distance):
            distance = self.distance
        reward = self.slack_reward + (self.distance - distance)
        self.distance = float(distance)
        return reward

    def succeeded(self, stopped: bool, visible: bool) -> bool:
        return bool(stopped and visible and self.distance <= self.success_distance)

    def metrics(self, success: bool) -> dict[str, float]:
        return {
            "success": float(success),
            "spl": spl(success, self.shortest, self.path),
            "soft_spl": soft_spl(self.distance, self.shortest, self.path),
            "distance_to_goal": self.distance,
            "episode_length": float(self.steps),
        }
