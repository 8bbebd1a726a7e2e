"""Builds the batched habitat env: habitat-lab config and dataset once, one simulator per env."""
from __future__ import annotations

from envs.contract import Env
from envs.habitat.episodic import HabitatNav
from envs.habitat.metrics import METRIC_KEYS
from envs.habitat.scenes import TrialPlan, episodes_by_scene
from envs.serial import SerialEnv
from envs.habitat.task import DATASETS, NavOptions, action_space, habitat_overrides, observation_space


def build_env(options: NavOptions, *, num_envs: int, episodes_per_trial: int, seed: int, dataset: str,
              data_dir: str, split: str, gpu_device_id: int) -> Env:
    import habitat

    overrides = habitat_overrides(options, dataset=dataset, data_dir=data_dir, split=split, seed=seed,
                                  gpu_device_id=gpu_device_id)
    config = habitat.get_config(DATASETS[dataset]["benchmark"], overrides=overrides)
    # Loaded once and shared: episode files of the large splits take seconds and hundreds of MB.
    data = habitat.make_dataset(config.habitat.dataset.type, config=config.habitat.dataset)
    by_scene = episodes_by_scene([episode.scene_id for episode in data.episodes])
    num_categories = len(data.category_to_task_category_id)
    sims = [HabitatNav(config, data, TrialPlan(by_scene), options, num_categories) for _ in range(num_envs)]
    return SerialEnv(sims, observation_space(options.resolution, num_categories, options.max_depth),
                     action_space(), METRIC_KEYS, episodes_per_trial, seed)
