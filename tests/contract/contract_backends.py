"""The backends the env contract suite runs on, their small test settings and install requirements."""
from __future__ import annotations

import importlib

import envs

# Small, fast settings per backend: short episodes so that auto-resets and trial ends happen within
# a few dozen steps. A backend missing here runs with the defaults.
SMALL = {
    "house": {"num_envs": 3, "episodes_per_trial": 2, "resolution": 16, "max_steps": 12},
    "crafter": {"num_envs": 2, "episodes_per_trial": 2, "length": 12, "size": 36},
    "habitat": {"num_envs": 2, "episodes_per_trial": 2, "resolution": 32, "max_steps": 12, "split": "val"},
    "minedojo": {"num_envs": 1, "episodes_per_trial": 2, "task": "harvest_1_log", "image_size": [32, 48]},
    "darkroom": {"num_envs": 3, "episodes_per_trial": 2, "size": 4, "horizon": 8},
}
DEFAULT = {"num_envs": 2, "episodes_per_trial": 2}
# What a backend's install message must name when it is not installed (any one of them).
REQUIREMENTS = {"house": (), "crafter": ("crafter",), "habitat": ("habitat-sim", "habitat-lab", "data"),
                "minedojo": ("minedojo", "java")}
STEPS = 40  # steps of each rollout check

NOT_RUN: dict[str, str] = {}


def small_config(name: str) -> dict:
    return dict(SMALL.get(name, DEFAULT))


def backend_status(name: str) -> tuple[bool, str]:
    """(installed, reason) without letting one broken backend stop the collection of the others."""
    try:
        module = importlib.import_module(envs.BACKENDS[name])
        ok, reason = module.availability()
        return bool(ok), str(reason)
    except Exception as e:  # noqa: BLE001 - reported, and test_backend_module_interface fails on it
        return False, f"backend module unusable: {type(e).__name__}: {e}"


def _crafter_world():
    from envs.crafter.world import CrafterWorld

    return CrafterWorld(seed=3, length=400)


def _minedojo_world():
    from envs.minedojo.tasks import task
    from envs.minedojo.world import MineDojoWorld

    world = MineDojoWorld(task("harvest_1_log"), seed=0, world_seed=3, image_size=(32, 48))
    world.reset()
    return world


# Backends that offer the planner interface (world, text_state.describe, skills.Executor, tasks):
# how to build a world, and one skill call that makes sense at the start of an episode.
PLANNERS = {
    "crafter": (_crafter_world, "collect(tree)"),
    "minedojo": (_minedojo_world, "collect(log)"),
}
