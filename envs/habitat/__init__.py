"""Habitat backend: the house navigation task on habitat-sim / habitat-lab (HM3D or HSSD ObjectNav scenes).

Importing this package never imports habitat; ``make`` does, and ``availability`` only looks for it.
Each env of a batch is a habitat simulator in a process of its own (process.py), on scenes of its own.
Config: configs/env/habitat.yaml (``embodied ... env=habitat env.dataset=hssd env.data_dir=/data``).
"""
from __future__ import annotations

import importlib.util
import os

from envs.contract import Env
from envs.habitat.task import DATASETS, NavOptions

DEFAULT_DATA_DIR = os.environ.get("EMBODIED_HABITAT_DATA", "data")

HABITAT_LAB_VERSION = "0.3.320260507"  # newest habitat-lab release; imports on Python 3.11 (tests/real_packages)
# What installs each missing module; habitat-sim has no pip wheel (conda only, aihabitat channels).
INSTALLS = {
    "habitat-sim": "conda install -c conda-forge -c aihabitat-nightly habitat-sim withbullet headless",
    "habitat-lab": f"pip install habitat-lab=={HABITAT_LAB_VERSION}",
}
DATA_LAYOUT = ("habitat-sim is conda only (or use the docker/habitat.Dockerfile image); the data goes under "
               "$EMBODIED_HABITAT_DATA (default ./data): scene_datasets/hm3d or hssd-hab and "
               "datasets/objectnav/<dataset>/..., as docker/README.md lays out")


def install_help(missing: list[str]) -> str:
    """One line: each missing package and the command that installs it."""
    return f"missing {', '.join(missing)}: " + "; ".join(f"{pkg}: `{INSTALLS[pkg]}`" for pkg in missing) + \
        f"; {DATA_LAYOUT}"


DATA_HELP = {
    "hm3d": ("HM3D scenes (Matterport licence) via `python -m habitat_sim.utils.datasets_download "
             "--username KEY_ID --password SECRET --uids hm3d_train_v0.2 hm3d_val_v0.2 --data-path {data_dir}` "
             "and the ObjectNav episodes (objectnav_hm3d_v2) unpacked to {data_dir}/datasets/objectnav/hm3d/v2/"),
    "hssd": ("HSSD scenes (the Hugging Face dataset hssd/hssd-hab, after accepting its licence) "
             "into {data_dir}/scene_datasets/hssd-hab and the HSSD ObjectNav episodes unpacked to "
             "{data_dir}/datasets/objectnav/hssd-hab/"),
}


def missing_packages() -> list[str]:
    return [pkg for mod, pkg in (("habitat_sim", "habitat-sim"), ("habitat", "habitat-lab"))
            if importlib.util.find_spec(mod) is None]


def data_problem(dataset: str, data_dir: str, split: str) -> str | None:
    """What is missing from ``data_dir`` for this dataset and split, with where it goes; None if complete."""
    if dataset not in DATASETS:
        return f"env.dataset={dataset!r} is not known; allowed: {sorted(DATASETS)}"
    spec = DATASETS[dataset]
    needed = {"scene dataset config": os.path.join(data_dir, spec["scene_dataset"]),
              f"{split} episodes": os.path.join(data_dir, spec["episodes"].format(split=split))}
    absent = [f"{what} ({path})" for what, path in needed.items() if not os.path.exists(path)]
    if not absent:
        return None
    return (f"habitat {dataset} data missing: {', '.join(absent)}; get "
            + DATA_HELP[dataset].format(data_dir=data_dir)
            + " (set env.data_dir or EMBODIED_HABITAT_DATA to where the data is)")


def start_problem(dataset: str = "hm3d", data_dir: str | None = None, split: str = "train",
                  **_: object) -> str | None:
    """Missing packages (with their install commands), else missing data; None when ``make`` can start."""
    missing = missing_packages()
    if missing:
        return install_help(missing)
    return data_problem(dataset, data_dir or DEFAULT_DATA_DIR, split)


def availability() -> tuple[bool, str]:
    missing = missing_packages()
    if missing:
        return False, install_help(missing)
    problems = {name: data_problem(name, DEFAULT_DATA_DIR, "train") for name in DATASETS}
    ready = [name for name, problem in problems.items() if problem is None]
    if not ready:
        return False, " | ".join(problems.values())
    return True, f"habitat-sim and habitat-lab installed; {', '.join(ready)} data in {DEFAULT_DATA_DIR}"


def make(num_envs: int = 1, episodes_per_trial: int = 8, seed: int = 0, dataset: str = "hm3d",
         data_dir: str | None = None, split: str = "train", gpu_device_id: int | list[int] = 0, name: str = "habitat",
         **task: object) -> Env:
    """A batch of ``num_envs`` habitat instances; raises ImportError / FileNotFoundError saying what to get."""
    missing = missing_packages()
    if missing:
        raise ImportError(install_help(missing))
    data_dir = data_dir or DEFAULT_DATA_DIR
    problem = data_problem(dataset, data_dir, split)
    if problem:
        raise FileNotFoundError(problem)
    unknown = set(task) - set(NavOptions.__dataclass_fields__)
    if unknown:
        raise TypeError(f"unknown habitat env options {sorted(unknown)}; allowed: "
                        f"{sorted(NavOptions.__dataclass_fields__)}")
    from envs.habitat.build import build_env

    return build_env(NavOptions(**task), num_envs=num_envs, episodes_per_trial=episodes_per_trial, seed=seed,
                     dataset=dataset, data_dir=data_dir, split=split, gpu_device_id=gpu_device_id)
