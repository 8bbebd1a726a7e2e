"""Trials over a habitat episode dataset: one trial = one scene, its episodes drawn from that scene only.

The split (train / val / ...) is the dataset's own: each split file lists episodes of its own scenes, so
"unseen houses" are the val scenes exactly as HM3D / HSSD define them.
"""
from __future__ import annotations

import posixpath
from collections.abc import Sequence

import numpy as np


def scene_name(scene_id: str) -> str:
    """``.../00800-TEEsavR23oF/TEEsavR23oF.basis.glb`` -> ``TEEsavR23oF``; HSSD ids are bare names."""
    return posixpath.basename(str(scene_id)).split(".", 1)[0]


def episodes_by_scene(scene_ids: Sequence[str]) -> dict[str, list[int]]:
    """Episode indices grouped by scene, scenes in sorted order (so a seed picks the same scene anywhere)."""
    groups: dict[str, list[int]] = {}
    for index, scene_id in enumerate(scene_ids):
        groups.setdefault(scene_name(scene_id), []).append(index)
    if not groups:
        raise ValueError("the episode dataset is empty: check env.data_dir and env.split")
    return dict(sorted(groups.items()))


class TrialPlan:
    """Draws a scene per trial and a fresh episode of that scene per episode (each used once per cycle)."""

    def __init__(self, by_scene: dict[str, list[int]]):
        if not by_scene:
            raise ValueError("no scenes to draw trials from")
        self.by_scene = by_scene
        self.scenes = list(by_scene)
        self.scene: str | None = None
        self._order: list[int] = []

    def new_trial(self, rng: np.random.Generator) -> str:
        self.scene = self.scenes[int(rng.integers(len(self.scenes)))]
        self._order = []
        return self.scene

    def next_episode(self, rng: np.random.Generator) -> int:
        if self.scene is None:
            raise RuntimeError("new_trial() must come before next_episode()")
        if not self._order:
            self._order = [self.by_scene[self.scene][i] for i in rng.permutation(len(self.by_scene[self.scene]))]
        return self._order.pop()


def split_scenes(scenes: Sequence[str], num_envs: int) -> list[tuple[str, ...]]:
    """Scenes dealt round-robin to ``num_envs`` envs (as habitat-lab's construct_envs splits them), so that
    envs of a batch walk different houses; with fewer scenes than envs each env gets one, reused."""
    if not scenes:
        raise ValueError("no scenes to split across envs")
    if num_envs < 1:
        raise ValueError(f"num_envs={num_envs!r} must be a positive integer")
    if num_envs <= len(scenes):
        return [tuple(scenes[i::num_envs]) for i in range(num_envs)]
    return [(scenes[i % len(scenes)],) for i in range(num_envs)]
