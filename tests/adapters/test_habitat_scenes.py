"""Trials over a habitat episode dataset: one scene per trial, the dataset's split, seeded draws."""
from __future__ import annotations

import numpy as np
import pytest

from envs.habitat.scenes import TrialPlan, episodes_by_scene, scene_name

HM3D_IDS = ["hm3d/val/00800-TEEsavR23oF/TEEsavR23oF.basis.glb", "hm3d/val/00802-wcojb4TFT35/wcojb4TFT35.basis.glb"]


def test_scene_names_from_dataset_ids():
    assert scene_name(HM3D_IDS[0]) == "TEEsavR23oF"
    assert scene_name("102344022") == "102344022"  # HSSD writes bare scene names
    groups = episodes_by_scene([HM3D_IDS[1], HM3D_IDS[0], HM3D_IDS[1], "102344022"])
    assert groups == {"102344022": [3], "TEEsavR23oF": [1], "wcojb4TFT35": [0, 2]}
    with pytest.raises(ValueError, match="empty"):
        episodes_by_scene([])


def test_a_trial_stays_in_one_scene_and_cycles_its_episodes():
    scene_ids = [HM3D_IDS[i % 2] for i in range(11)] + ["102344022"] * 3
    plan = TrialPlan(episodes_by_scene(scene_ids))
    rng = np.random.default_rng(0)
    for _ in range(20):
        scene = plan.new_trial(rng)
        drawn = [plan.next_episode(rng) for _ in range(2 * len(plan.by_scene[scene]))]
        assert {scene_name(scene_ids[i]) for i in drawn} == {scene}
        n = len(plan.by_scene[scene])
        assert sorted(drawn[:n]) == sorted(plan.by_scene[scene])  # every episode once per cycle


def test_trials_are_reproducible_from_the_seed():
    by_scene = episodes_by_scene([f"s{i % 5}.glb" for i in range(40)])

    def run(seed):
        plan, rng = TrialPlan(by_scene), np.random.default_rng(seed)
        return [(plan.new_trial(rng), [plan.next_episode(rng) for _ in range(3)]) for _ in range(6)]

    assert run(1) == run(1)
    assert run(1) != run(2)
    with pytest.raises(RuntimeError, match="new_trial"):
        TrialPlan(by_scene).next_episode(np.random.default_rng())


def test_scenes_are_dealt_round_robin_and_reused_when_too_few():
    from envs.habitat.scenes import split_scenes

    assert split_scenes(["a", "b", "c", "d", "e"], 2) == [("a", "c", "e"), ("b", "d")]
    assert split_scenes(["a", "b"], 3) == [("a",), ("b",), ("a",)]
    with pytest.raises(ValueError, match="num_envs=0"):
        split_scenes(["a"], 0)
