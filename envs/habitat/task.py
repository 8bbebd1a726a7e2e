"""The navigation task of envs/house expressed in habitat terms: spaces, actions, observation conversion.

Kept free of habitat imports so that it is tested (and usable for recorded habitat data) without the
simulator. Observation keys and dtypes follow the house backend: ``rgb`` uint8 (H, W, 3), ``depth``
float32 metres (H, W, 1), ``goal`` one-hot float32 over the dataset's goal categories, ``gps`` float32
(2,) = habitat's episodic GPS (forward, right offset in metres from the episode start, in the start frame).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import gymnasium
import numpy as np

# Our action index -> habitat-lab action name; the order is the house backend's.
ACTIONS = ("stop", "move_forward", "turn_left", "turn_right", "look_up", "look_down")
STOP = 0

# Where habitat-lab's benchmark configs and datasets expect things (relative to ``data_dir``).
DATASETS = {
    "hm3d": {
        "benchmark": "benchmark/nav/objectnav/objectnav_hm3d.yaml",
        # habitat-sim's datasets_download (--uids hm3d_*_v0.2) links the scenes at scene_datasets/hm3d.
        "scene_dataset": "scene_datasets/hm3d/hm3d_annotated_basis.scene_dataset_config.json",
        "scenes_dir": "scene_datasets",
        "episodes": "datasets/objectnav/hm3d/v2/{split}/{split}.json.gz",
        "splits": ("train", "val", "val_mini"),
    },
    "hssd": {
        "benchmark": "benchmark/nav/objectnav/objectnav_hssd-hab.yaml",
        "scene_dataset": "scene_datasets/hssd-hab/hssd-hab.scene_dataset_config.json",
        "scenes_dir": "scene_datasets/hssd-hab/scenes",
        "episodes": "datasets/objectnav/hssd-hab/{split}/{split}.json.gz",
        "splits": ("train", "val"),
    },
}


@dataclass(frozen=True)
class NavOptions:
    """The task constants shared with envs/house, plus the habitat-specific sensor settings."""

    resolution: int = 128
    max_steps: int = 500
    forward_step: float = 0.25
    turn_degrees: int = 30
    tilt_degrees: int = 30
    success_distance: float = 2.0  # geodesic metres to the nearest view point of a goal instance
    min_visible_pixels: int = 16  # goal pixels in the semantic frame that count as "visible"
    success_reward: float = 2.0
    slack_reward: float = -0.001
    min_depth: float = 0.0
    max_depth: float = 10.0
    hfov: int = 79
    camera_height: float = 0.88


def observation_space(resolution: int, num_categories: int, max_depth: float) -> dict[str, gymnasium.Space]:
    """Per-env observation spaces (without the contract flags)."""
    r = int(resolution)
    return {
        "rgb": gymnasium.spaces.Box(0, 255, (r, r, 3), np.uint8),
        "depth": gymnasium.spaces.Box(0.0, float(max_depth), (r, r, 1), np.float32),
        "goal": gymnasium.spaces.Box(0.0, 1.0, (int(num_categories),), np.float32),
        "gps": gymnasium.spaces.Box(-np.inf, np.inf, (2,), np.float32),
    }


def action_space() -> dict[str, gymnasium.Space]:
    return {"action": gymnasium.spaces.Discrete(len(ACTIONS))}


def habitat_action(index: int) -> str:
    """Our discrete action index as the habitat-lab action name."""
    i = int(index)
    if not 0 <= i < len(ACTIONS):
        raise ValueError(f"action {index!r} out of range; allowed 0..{len(ACTIONS) - 1} = {list(ACTIONS)}")
    return ACTIONS[i]


def convert_observation(sample: Mapping[str, np.ndarray], num_categories: int,
                        max_depth: float) -> dict[str, np.ndarray]:
    """A habitat-lab observation dict (``rgb``, ``depth``, ``objectgoal``, ``gps``) in our format."""
    for key in ("rgb", "depth", "objectgoal", "gps"):
        if key not in sample:
            raise KeyError(f"habitat observation lacks {key!r} (has {sorted(sample)}); "
                           "the config must enable rgb/depth sensors and objectgoal/gps lab sensors")
    rgb = np.asarray(sample["rgb"])
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise ValueError(f"rgb must be (H, W, 3|4), got {rgb.shape}")
    depth = np.asarray(sample["depth"], np.float32)
    if depth.ndim == 2:
        depth = depth[..., None]
    category = int(np.asarray(sample["objectgoal"]).reshape(-1)[0])
    if not 0 <= category < num_categories:
        raise ValueError(f"objectgoal {category} outside the dataset's {num_categories} categories")
    goal = np.zeros(num_categories, np.float32)
    goal[category] = 1.0
    return {
        # habitat-lab returns 3 channels (habitat_simulator.py:135); a raw habitat-sim frame has 4
        "rgb": np.ascontiguousarray(rgb[..., :3], dtype=np.uint8),
        "depth": np.clip(np.nan_to_num(depth, nan=0.0, posinf=max_depth), 0.0, max_depth),
        "goal": goal,
        "gps": np.asarray(sample["gps"], np.float32).reshape(2),
    }


def goal_semantic_ids(goal_object_ids: Sequence[str | int], annotations: Sequence[tuple[str, int]]) -> set[int]:
    """Semantic-sensor ids of the goal instances.

    ``annotations`` lists the scene's semantic objects as (annotation id, semantic id); an episode goal's
    ``object_id`` names the annotation either exactly or as its trailing ``_<n>`` index (annotation ids
    may carry a category prefix, e.g. ``"chair_41"`` for goal object ``41``).
    """
    wanted = {str(g) for g in goal_object_ids}
    ids = set()
    for name, semantic_id in annotations:
        name = str(name)
        if name in wanted or name.rsplit("_", 1)[-1] in wanted:
            ids.add(int(semantic_id))
    return ids


def visible_goal_pixels(semantic: np.ndarray, goal_ids: set[int]) -> int:
    """How many pixels of the semantic frame show any goal instance."""
    if not goal_ids:
        return 0
    return int(np.isin(np.asarray(semantic), np.fromiter(goal_ids, np.int64)).sum())


def habitat_overrides(options: NavOptions, *, dataset: str, data_dir: str, split: str, seed: int,
                      gpu_device_id: int = 0) -> list[str]:
    """Hydra overrides that turn habitat-lab's ObjectNav benchmark config into our task."""
    if dataset not in DATASETS:
        raise ValueError(f"env.dataset={dataset!r} is not known; allowed: {sorted(DATASETS)}")
    spec = DATASETS[dataset]
    if split not in spec["splits"]:
        raise ValueError(f"env.split={split!r} is not a split of {dataset}; allowed: {list(spec['splits'])}")
    r = int(options.resolution)
    sensors = "habitat.simulator.agents.main_agent.sim_sensors"
    out = [
        f"habitat.seed={int(seed)}",
        f"habitat.dataset.split={split}",
        # Filled here: habitat-lab formats ``{split}`` itself, but Hydra's override grammar rejects braces.
        f"habitat.dataset.data_path={data_dir}/{spec['episodes'].format(split=split)}",
        f"habitat.dataset.scenes_dir={data_dir}/{spec['scenes_dir']}",
        f"habitat.simulator.scene_dataset={data_dir}/{spec['scene_dataset']}",
        f"habitat.simulator.forward_step_size={options.forward_step}",
        f"habitat.simulator.turn_angle={options.turn_degrees}",
        f"habitat.task.actions.look_up.tilt_angle={options.tilt_degrees}",
        f"habitat.task.actions.look_down.tilt_angle={options.tilt_degrees}",
        # Our wrapper owns the step cap and the end of episodes (success needs stop, not arrival).
        f"habitat.environment.max_episode_steps={options.max_steps + 1}",
        "habitat.task.end_on_success=False",
        f"habitat.simulator.habitat_sim_v0.gpu_device_id={int(gpu_device_id)}",
        f"+habitat/simulator/sim_sensors@{sensors}.semantic_sensor=semantic_sensor",
        f"{sensors}.depth_sensor.normalize_depth=False",
        f"{sensors}.depth_sensor.min_depth={options.min_depth}",
        f"{sensors}.depth_sensor.max_depth={options.max_depth}",
    ]
    for sensor in ("rgb_sensor", "depth_sensor", "semantic_sensor"):
        out += [f"{sensors}.{sensor}.width={r}", f"{sensors}.{sensor}.height={r}",
                f"{sensors}.{sensor}.hfov={options.hfov}",
                f"{sensors}.{sensor}.position=[0,{options.camera_height},0]"]
    return out
