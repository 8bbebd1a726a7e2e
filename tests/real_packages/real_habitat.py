"""envs/habitat against the real habitat-lab from PyPI (run in the habitat side env by
tests/adapters/test_real_packages.py): its Hydra config with our overrides, its ObjectNav-v1 dataset class on
an episode file written here, its EpisodeIterator against our trial plan, its sensors' observation spaces.
habitat-sim is conda-only, so habitat_import_shim lets habitat-lab import; no simulator call is made."""
from __future__ import annotations

import gzip
import json
import random

import numpy as np
import pytest

import habitat_import_shim

SHIMMED = habitat_import_shim.install()

import habitat  # noqa: E402 - after the shim
from habitat.core.dataset import EpisodeIterator  # noqa: E402

from envs.habitat import data_problem  # noqa: E402
from envs.habitat.episodic import HabitatNav  # noqa: E402
from envs.habitat.metrics import HABITAT_MEASURES  # noqa: E402
from envs.habitat.scenes import TrialPlan, episodes_by_scene, scene_name, split_scenes  # noqa: E402
from envs.habitat.task import DATASETS, NavOptions, convert_observation, habitat_overrides  # noqa: E402

SENSORS = "habitat.simulator.agents.main_agent.sim_sensors"
SCENES = ("00800-TEEsavR23oF/TEEsavR23oF.basis.glb", "00802-wcojb4TFT35/wcojb4TFT35.basis.glb")
CATEGORIES = ["chair", "bed", "plant", "toilet", "tv_monitor", "sofa"]


def config_for(dataset="hm3d", split="val", data_dir="/data", seed=0, **options):
    overrides = habitat_overrides(NavOptions(**options), dataset=dataset, data_dir=data_dir, split=split, seed=seed)
    return habitat.get_config(DATASETS[dataset]["benchmark"], overrides=overrides)


@pytest.mark.parametrize("dataset,split", [(d, s) for d, spec in DATASETS.items() for s in spec["splits"]])
def test_real_config_takes_our_overrides(dataset, split):
    config = config_for(dataset, split, resolution=64, max_steps=300, seed=0)
    h = config.habitat
    spec = DATASETS[dataset]
    assert h.dataset.data_path == f"/data/{spec['episodes'].format(split=split)}"
    assert h.dataset.split == split and h.dataset.type == "ObjectNav-v1"
    assert h.simulator.scene_dataset == f"/data/{spec['scene_dataset']}"
    assert h.environment.max_episode_steps == 301 and h.seed == 0
    assert h.simulator.forward_step_size == 0.25 and h.simulator.turn_angle == 30
    sensors = h.simulator.agents.main_agent.sim_sensors
    assert set(sensors) == {"rgb_sensor", "depth_sensor", "semantic_sensor"}
    assert all((sensors[s].width, sensors[s].height) == (64, 64) for s in sensors)
    assert sensors.depth_sensor.normalize_depth is False and sensors.depth_sensor.max_depth == 10.0
    assert {"objectgoal_sensor", "gps_sensor"} <= set(h.task.lab_sensors)
    assert set(HABITAT_MEASURES) <= set(h.task.measurements)  # the judges HabitatNav reads
    assert [a for a in h.task.actions] == ["stop", "move_forward", "turn_left", "turn_right", "look_up", "look_down"]


def test_the_unfilled_split_pattern_is_what_hydra_rejects():
    # The bug this guards against: habitat-lab's own {split} placeholder passed as an override value.
    from hydra.errors import OverrideParseException

    bad = "habitat.dataset.data_path=/data/datasets/objectnav/hm3d/v2/{split}/{split}.json.gz"
    with pytest.raises(OverrideParseException):
        habitat.get_config(DATASETS["hm3d"]["benchmark"], overrides=[bad])


def write_objectnav(data_dir, dataset="hm3d", split="val", per_scene=3):
    """A small ObjectNav-v1 episode file (the format of objectnav_hm3d_v2) with the scene data it names."""
    spec = DATASETS[dataset]
    episodes, goals_by_category = [], {}
    for s, scene in enumerate(SCENES):
        for e in range(per_scene):
            category = CATEGORIES[e % len(CATEGORIES)]
            scene_id = f"hm3d/{split}/{scene}"
            key = f"{scene.split('/')[-1]}_{category}"
            goals_by_category[key] = [{
                "position": [2.0 + e, 0.5, float(s)], "radius": None, "object_id": 40 + e, "object_name": category,
                "object_category": category, "room_id": None, "room_name": None,
                "view_points": [{"agent_state": {"position": [1.5 + e, 0.0, float(s)], "rotation": [0, 0, 0, 1]},
                                 "iou": 0.5}]}]
            episodes.append({"episode_id": f"{s}-{e}", "scene_id": scene_id, "scene_dataset_config":
                             "./data/scene_datasets/hm3d/hm3d_annotated_basis.scene_dataset_config.json",
                             "start_position": [0.0, 0.0, float(s)], "start_rotation": [0, 0, 0, 1],
                             "info": {"geodesic_distance": 1.5 + e}, "goals": [], "object_category": category,
                             "shortest_paths": None})
    content = {"episodes": episodes, "goals_by_category": goals_by_category,
               "category_to_task_category_id": {c: i for i, c in enumerate(CATEGORIES)},
               "category_to_scene_annotation_category_id": {c: i + 1 for i, c in enumerate(CATEGORIES)}}
    path = data_dir / spec["episodes"].format(split=split)
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as f:
        json.dump(content, f)
    scene_dataset = data_dir / spec["scene_dataset"]
    scene_dataset.parent.mkdir(parents=True, exist_ok=True)
    scene_dataset.write_text("{}")
    return path


def load(tmp_path, seed=0):
    write_objectnav(tmp_path)
    config = config_for(data_dir=str(tmp_path), seed=seed)
    return config, habitat.make_dataset(config.habitat.dataset.type, config=config.habitat.dataset)


def test_real_dataset_class_loads_our_layout(tmp_path):
    config, data = load(tmp_path)
    assert data_problem("hm3d", str(tmp_path), "val") is None  # the layout the help describes is complete
    assert len(data.episodes) == 2 * 3 and len(data.category_to_task_category_id) == len(CATEGORIES)
    assert data.episodes[0].scene_id.startswith(f"{tmp_path}/scene_datasets/hm3d/val/")  # scenes_dir joined
    by_scene = episodes_by_scene([e.scene_id for e in data.episodes])
    assert list(by_scene) == ["TEEsavR23oF", "wcojb4TFT35"] and by_scene["TEEsavR23oF"] == [0, 1, 2]
    goal = data.episodes[4].goals[0]
    assert goal.object_id == 41 and list(goal.view_points[0].agent_state.position) == [2.5, 0.0, 1.0]


def test_real_iterator_shuffles_the_shared_list_but_not_ours(tmp_path):
    config, data = load(tmp_path, seed=0)
    scenes = tuple(episodes_by_scene([e.scene_id for e in data.episodes]))
    before = [e.episode_id for e in data.episodes]
    ours = [e for e in data.episodes if scene_name(e.scene_id) in scenes]  # as HabitatNav keeps them
    data.episodes = list(ours)
    options = {k.lower(): v for k, v in config.habitat.environment.iterator_options.items()}
    random.seed(12345)
    EpisodeIterator(data.episodes, seed=config.habitat.seed, **options)  # what habitat.Env builds
    assert [e.episode_id for e in data.episodes] != before  # shuffled in place, and seed 0 seeded nothing
    assert [e.episode_id for e in ours] == before  # our private list keeps the plan's indices
    plan = TrialPlan(episodes_by_scene([e.scene_id for e in ours]))
    rng = np.random.default_rng([0, 0])
    for _ in range(4):
        scene = plan.new_trial(rng)
        assert all(scene_name(ours[plan.next_episode(rng)].scene_id) == scene for _ in range(3))


def test_real_iterator_ignores_seed_zero(tmp_path):
    _, data = load(tmp_path)
    orders = []
    for state in (1, 2):
        random.seed(state)
        episodes = list(data.episodes)
        EpisodeIterator(episodes, seed=0, shuffle=True, group_by_scene=False)
        orders.append([e.episode_id for e in episodes])
    assert orders[0] != orders[1]  # seed=0 left the order to whatever the global random state was


def test_episodes_are_told_our_scene_dataset(tmp_path):
    config, data = load(tmp_path)
    assert {e.scene_dataset_config for e in data.episodes} != {config.habitat.simulator.scene_dataset}

    class SimulatorWouldStart(Exception):
        pass

    class NoSim:  # habitat.Env needs habitat-sim: stop HabitatNav right where it would start it
        def __init__(self, config, dataset):
            raise SimulatorWouldStart

    real_env = habitat.Env
    habitat.Env = NoSim
    try:
        with pytest.raises(SimulatorWouldStart):
            HabitatNav(config, data, NavOptions(), ("wcojb4TFT35",))
    finally:
        habitat.Env = real_env
    handed = data.episodes  # what habitat.Env would have iterated over
    assert {scene_name(e.scene_id) for e in handed} == {"wcojb4TFT35"} and len(handed) == 3
    assert {e.scene_dataset_config for e in handed} == {config.habitat.simulator.scene_dataset}


def test_scenes_dealt_across_envs_cover_the_split(tmp_path):
    _, data = load(tmp_path)
    scenes = list(episodes_by_scene([e.scene_id for e in data.episodes]))
    parts = split_scenes(scenes, 2)
    assert sorted(s for part in parts for s in part) == scenes and all(len(p) == 1 for p in parts)


def test_converter_on_the_real_sensor_spaces(tmp_path):
    from habitat.tasks.nav.nav import EpisodicGPSSensor
    from habitat.tasks.nav.object_nav_task import ObjectGoalSensor

    config, data = load(tmp_path)
    lab = config.habitat.task.lab_sensors
    goal_space = ObjectGoalSensor(None, lab.objectgoal_sensor, data).observation_space
    gps_space = EpisodicGPSSensor(None, lab.gps_sensor).observation_space
    assert goal_space.dtype == np.int64 and goal_space.shape == (1,) and gps_space.shape == (2,)
    n = len(data.category_to_task_category_id)
    assert int(goal_space.high.max()) == n - 1  # the one-hot width our adapter uses covers every id
    r = 32
    rng = np.random.default_rng(0)
    for category in range(n):
        raw = {"rgb": rng.integers(0, 256, (r, r, 3), dtype=np.uint8),  # habitat_simulator.py:111-135: 3 channels
               "depth": rng.uniform(0, 12, (r, r, 1)).astype(np.float32),
               "objectgoal": np.array([category], goal_space.dtype), "gps": gps_space.sample()}
        assert goal_space.contains(raw["objectgoal"])
        obs = convert_observation(raw, n, 10.0)
        assert obs["goal"].argmax() == category and obs["gps"].dtype == np.float32 and obs["rgb"].shape == (r, r, 3)


def test_shim_was_needed_only_for_the_simulator():
    assert set(SHIMMED) <= {"habitat_sim", "magnum", "corrade"}
    assert habitat.__file__.endswith("habitat/__init__.py") and "site-packages" in habitat.__file__
