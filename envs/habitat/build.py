"""Builds the batched habitat env: scenes split across envs, each env a simulator in a process of its own."""
from __future__ import annotations

from collections.abc import Sequence

from envs.contract import Env
from envs.habitat.metrics import METRIC_KEYS
from envs.habitat.process import EnvSpec, HabitatProcess
from envs.habitat.scenes import episodes_by_scene, split_scenes
from envs.serial import SerialEnv
from envs.habitat.task import DATASETS, NavOptions, action_space, habitat_overrides, observation_space


def build_env(options: NavOptions, *, num_envs: int, episodes_per_trial: int, seed: int, dataset: str,
              data_dir: str, split: str, gpu_device_id: int | Sequence[int]) -> Env:
    """``num_envs`` envs over the split's scenes; ``gpu_device_id`` (one id or a list) is dealt round-robin."""
    import habitat

    gpus = [int(gpu_device_id)] if isinstance(gpu_device_id, int) else [int(g) for g in gpu_device_id]
    if not gpus:
        raise ValueError("gpu_device_id must name at least one GPU")
    overrides = habitat_overrides(options, dataset=dataset, data_dir=data_dir, split=split, seed=seed,
                                  gpu_device_id=gpus[0])
    config = habitat.get_config(DATASETS[dataset]["benchmark"], overrides=overrides)
    # Read here only for the scene list; each env process loads its own copy and keeps its scenes.
    data = habitat.make_dataset(config.habitat.dataset.type, config=config.habitat.dataset)
    scenes = list(episodes_by_scene([episode.scene_id for episode in data.episodes]))
    del data
    sims = [HabitatProcess(EnvSpec(options, dataset, data_dir, split, seed, gpus[i % len(gpus)], part))
            for i, part in enumerate(split_scenes(scenes, num_envs))]
    return SerialEnv(sims, observation_space(options.resolution, sims[0].num_categories, options.max_depth),
                     action_space(), METRIC_KEYS, episodes_per_trial, seed)
