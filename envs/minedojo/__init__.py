"""MineDojo backend: ``minedojo.make`` programmatic tasks behind the env contract (RL) and, for the planner,
a text state and skill executor with the same interface as envs/crafter, and the planner's world
(planning.py, envs/skills.py's SkillWorld protocol).

Importing this package never imports minedojo; ``make`` does, and ``availability`` only looks for it.
Config: configs/env/minedojo.yaml (``env=minedojo env.task=techtree_from_barehand_to_wooden_pickaxe``).
"""
from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess

from envs.contract import Env

# What installs each missing piece (gym 0.21's setup.py builds only with old setuptools/wheel, no isolation).
INSTALLS = {
    "minedojo": "pip install 'setuptools<66' 'wheel<0.40' && pip install --no-build-isolation gym==0.21.0 && "
                "pip install 'numpy<2' minedojo==0.1",
    "java": "JDK 8 on PATH: Temurin 8 (`apt-get install temurin-8-jdk` from Adoptium's apt repository) "
            "or the docker/minedojo.Dockerfile image; the first reset downloads and builds Minecraft",
}


def _problems() -> list[str]:
    """The missing pieces, each with the command that installs it."""
    out = []
    if importlib.util.find_spec("minedojo") is None:
        out.append(f"the minedojo package is not installed: `{INSTALLS['minedojo']}`")
    java = shutil.which("java")
    if java is None:
        out.append(f"java (JDK 8) is not on PATH: {INSTALLS['java']}")
    elif (version := java_version(java)) != "1.8":
        out.append(f"java on PATH is version {version}, MineDojo's Minecraft 1.11 needs JDK 8: {INSTALLS['java']}")
    return out


def java_version(java: str) -> str:
    """``1.8`` for JDK 8, ``17`` for JDK 17 (the first two fields of ``java -version``'s quoted version)."""
    text = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if not match:
        return "unknown"
    major, minor = match.groups()
    return f"1.{minor}" if major == "1" else major


def start_problem(**_: object) -> str | None:
    """The missing pieces with their install commands; None when ``make`` can start."""
    return "; ".join(_problems()) or None


def availability() -> tuple[bool, str]:
    problems = _problems()
    if problems:
        return False, "; ".join(problems)
    return True, "minedojo and java found"


def make(num_envs: int = 1, episodes_per_trial: int = 1, seed: int = 0,
         task: str = "techtree_from_barehand_to_wooden_pickaxe", image_size: tuple[int, int] = (160, 256),
         name: str = "minedojo") -> Env:
    """A batch of ``num_envs`` MineDojo worlds on one task; raises ImportError saying what to install."""
    from envs.minedojo.tasks import task as lookup

    spec = lookup(task)  # validate before the slow part
    problems = _problems()
    if problems:
        raise ImportError("; ".join(problems))
    import gymnasium

    from envs.serial import SerialEnv
    from envs.minedojo.actions import RL_ACTIONS
    from envs.minedojo.episodic import METRIC_KEYS, MineDojoRL
    from envs.minedojo.observation import observation_space

    height, width = (int(v) for v in image_size)
    sims = [MineDojoRL(spec, seed=seed * 1000 + i, image_size=(height, width)) for i in range(num_envs)]
    return SerialEnv(sims, observation_space(height, width), {"action": gymnasium.spaces.Discrete(len(RL_ACTIONS))},
                     METRIC_KEYS, episodes_per_trial, seed)
