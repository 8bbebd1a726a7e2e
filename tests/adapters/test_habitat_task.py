"""envs/habitat without habitat: spaces, observation conversion, actions, semantic visibility, config."""
from __future__ import annotations

import numpy as np
import pytest

import envs.habitat as habitat_backend
from envs.habitat import task as T


def test_spaces_match_the_house_task_and_contain_converted_observations(make_habitat_obs):
    space = T.observation_space(32, num_categories=6, max_depth=10.0)
    assert space["rgb"].shape == (32, 32, 3) and space["rgb"].dtype == np.uint8
    assert space["depth"].shape == (32, 32, 1) and space["depth"].dtype == np.float32
    assert space["goal"].shape == (6,) and space["gps"].shape == (2,)
    assert T.action_space()["action"].n == 6
    for seed in range(5):
        obs = T.convert_observation(make_habitat_obs(seed=seed, category=seed % 6), 6, 10.0)
        for key, sp in space.items():
            assert obs[key].dtype == sp.dtype, key
            assert sp.contains(obs[key]), key


def test_conversion_drops_alpha_clips_depth_and_one_hot_encodes(make_habitat_obs):
    raw = make_habitat_obs(resolution=8, category=4, gps=(2.5, -1.0), rgba=True)  # a raw habitat-sim frame
    obs = T.convert_observation(raw, num_categories=6, max_depth=10.0)
    np.testing.assert_array_equal(obs["rgb"], raw["rgb"][..., :3])
    assert obs["rgb"].flags.c_contiguous
    finite = np.isfinite(raw["depth"])
    np.testing.assert_allclose(obs["depth"][finite], np.clip(raw["depth"][finite], 0, 10.0))
    assert obs["depth"][0, 0, 0] == 0.0  # NaN (mesh hole) reads as no return
    assert obs["goal"].tolist() == [0, 0, 0, 0, 1, 0]
    np.testing.assert_array_equal(obs["gps"], np.float32([2.5, -1.0]))
    rgb3 = T.convert_observation(make_habitat_obs(resolution=8), 6, 10.0)["rgb"]
    assert rgb3.shape == (8, 8, 3)


def test_conversion_names_what_is_wrong(make_habitat_obs):
    raw = make_habitat_obs()
    del raw["gps"]
    with pytest.raises(KeyError, match="gps"):
        T.convert_observation(raw, 6, 10.0)
    with pytest.raises(ValueError, match="objectgoal 7 outside"):
        T.convert_observation(make_habitat_obs(category=7), 6, 10.0)


def test_action_mapping_follows_the_house_order():
    assert [T.habitat_action(i) for i in range(6)] == ["stop", "move_forward", "turn_left", "turn_right",
                                                       "look_up", "look_down"]
    assert T.habitat_action(np.int64(3)) == "turn_right"
    with pytest.raises(ValueError, match="out of range"):
        T.habitat_action(6)


def test_goal_visibility_from_the_semantic_frame():
    annotations = [("chair_41", 7), ("41", 9), ("table_4", 3), ("bed_141", 12)]
    ids = T.goal_semantic_ids(["41"], annotations)
    assert ids == {7, 9}  # "bed_141" must not match goal 41
    semantic = np.zeros((10, 10, 1), np.int32)
    semantic[2:4, 2:5] = 7
    semantic[9, 9] = 3
    assert T.visible_goal_pixels(semantic, ids) == 6
    assert T.visible_goal_pixels(semantic, set()) == 0


def test_overrides_set_our_task_on_habitat_lab():
    opts = T.NavOptions(resolution=64, max_steps=300)
    out = T.habitat_overrides(opts, dataset="hssd", data_dir="/data", split="val", seed=3)
    assert "habitat.dataset.data_path=/data/datasets/objectnav/hssd-hab/val/val.json.gz" in out
    assert "habitat.dataset.split=val" in out and "habitat.seed=3" in out
    assert "habitat.simulator.forward_step_size=0.25" in out
    assert "habitat.simulator.turn_angle=30" in out
    assert "habitat.task.actions.look_down.tilt_angle=30" in out
    assert "habitat.environment.max_episode_steps=301" in out
    for sensor in ("rgb_sensor", "depth_sensor", "semantic_sensor"):
        assert f"habitat.simulator.agents.main_agent.sim_sensors.{sensor}.width=64" in out
    with pytest.raises(ValueError, match="allowed: \\['hm3d', 'hssd'\\]"):
        T.habitat_overrides(opts, dataset="mp3d", data_dir="d", split="train", seed=0)
    with pytest.raises(ValueError, match="not a split of hssd"):
        T.habitat_overrides(opts, dataset="hssd", data_dir="d", split="val_mini", seed=0)


def test_missing_data_message_says_where_it_goes(tmp_path):
    problem = habitat_backend.data_problem("hm3d", str(tmp_path), "val")
    assert f"{tmp_path}/datasets/objectnav/hm3d/v2/val/val.json.gz" in problem
    assert "hm3d_annotated_basis.scene_dataset_config.json" in problem
    assert "datasets_download" in problem
    for rel in ("scene_datasets/hm3d/hm3d_annotated_basis.scene_dataset_config.json",
                "datasets/objectnav/hm3d/v2/val/val.json.gz"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    assert habitat_backend.data_problem("hm3d", str(tmp_path), "val") is None


def test_make_rejects_unknown_options_before_touching_the_simulator(monkeypatch, tmp_path):
    monkeypatch.setattr(habitat_backend, "missing_packages", lambda: [])
    monkeypatch.setattr(habitat_backend, "data_problem", lambda *a: None)
    with pytest.raises(TypeError, match="resoluton"):
        habitat_backend.make(resoluton=64)


def test_availability_names_packages_then_data(monkeypatch, tmp_path):
    monkeypatch.setattr(habitat_backend, "missing_packages", lambda: ["habitat-sim"])
    ok, reason = habitat_backend.availability()
    assert not ok and reason.startswith("missing habitat-sim")
    assert "conda install -c conda-forge -c aihabitat-nightly habitat-sim" in reason
    monkeypatch.setattr(habitat_backend, "missing_packages", lambda: [])
    monkeypatch.setattr(habitat_backend, "DEFAULT_DATA_DIR", str(tmp_path))
    ok, reason = habitat_backend.availability()
    assert not ok and "habitat hm3d data missing" in reason and "habitat hssd data missing" in reason
    for rel in ("scene_datasets/hssd-hab/hssd-hab.scene_dataset_config.json",
                "datasets/objectnav/hssd-hab/train/train.json.gz"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    assert habitat_backend.availability() == (True, f"habitat-sim and habitat-lab installed; hssd data in {tmp_path}")
