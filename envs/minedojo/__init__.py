"""MineDojo backend: ``minedojo.make`` programmatic tasks behind the env contract (RL) and, for the planner,
a text state and skill executor with the same interface as envs/crafter.

Importing this package never imports minedojo; ``make`` does, and ``availability`` only looks for it.
Config: configs/env/minedojo.yaml (``env=minedojo env.task=techtree_from_barehand_to_wooden_pickaxe``).
"""
from __future__ import annotations

import importlib.util
import shutil

from envs.contract import Env

INSTALL = (
    "minedojo backend needs the minedojo package, JDK 8 and gym 0.21: use the docker/minedojo.Dockerfile "
    "image (Minecraft prebuilt), or install OpenJDK 8 (Temurin 8 on Debian 12), then "
    "`pip install 'setuptools<66' 'wheel<0.40' && pip install --no-build-isolation gym==0.21.0 && "
    "pip install 'numpy<2' minedojo`; the first reset downloads and builds Minecraft (needs internet)"
)


def _problems() -> list[str]:
    out = []
    if importlib.util.find_spec("minedojo") is None:
        out.append("the minedojo package is not installed")
    if shutil.which("java") is None:
        out.append("java (JDK 8) is not on PATH")
    return out


def availability() -> tuple[bool, str]:
    problems = _problems()
    if problems:
        return False, f"{'; '.join(problems)}: {INSTALL}"
    return True, "minedojo and java found"


def make(num_envs: int = 1, episodes_per_trial: int = 1, seed: int = 0,
         task: str = "techtree_from_barehand_to_wooden_pickaxe", image_size: tuple[int, int] = (160, 256),
         name: str = "minedojo") -> Env:
    """A batch of ``num_envs`` MineDojo worlds on one task; raises ImportError saying what to install."""
    from envs.minedojo.tasks import task as lookup

    spec = lookup(task)  # validate before the slow part
    problems = _problems()
    if problems:
        raise ImportError(f"{'; '.join(problems)}: {INSTALL}")
    import gymnasium

    from envs.serial import SerialEnv
    from envs.minedojo.actions import RL_ACTIONS
    from envs.minedojo.episodic import METRIC_KEYS, MineDojoRL
    from envs.minedojo.observation import observation_space

    height, width = (int(v) for v in image_size)
    sims = [MineDojoRL(spec, seed=seed * 1000 + i, image_size=(height, width)) for i in range(num_envs)]
    return SerialEnv(sims, observation_space(height, width), {"action": gymnasium.spaces.Discrete(len(RL_ACTIONS))},
                     METRIC_KEYS, episodes_per_trial, seed)
