"""One habitat simulator per process, as habitat-lab's VectorEnv runs them.

habitat-sim supports a single simulator per process (maintainers in facebookresearch/habitat-sim #1292 and
#1784; a second one segfaults, #1741), and under Ray its GPU must be chosen before the simulator starts
(#1038). So each env of a batch is a spawned process that builds its own config (with its own
``gpu_device_id``), keeps only its own scenes' episodes, and holds one ``HabitatNav``; ``HabitatProcess`` is its
``Episodic`` face in the parent.
"""
from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from typing import Any

import numpy as np

from envs.serial import Transition
from envs.habitat.task import NavOptions


@dataclass(frozen=True)
class EnvSpec:
    """Everything a process needs to build its env: picklable, no habitat objects."""

    options: NavOptions
    dataset: str
    data_dir: str
    split: str
    seed: int
    gpu_device_id: int
    scenes: tuple[str, ...]  # the scene names (scenes.scene_name) this env draws its trials from


def build_nav(spec: EnvSpec) -> Any:
    """The ``HabitatNav`` of ``spec``, built in the calling process."""
    import habitat

    from envs.habitat.episodic import HabitatNav
    from envs.habitat.task import DATASETS, habitat_overrides

    overrides = habitat_overrides(spec.options, dataset=spec.dataset, data_dir=spec.data_dir, split=spec.split,
                                  seed=spec.seed, gpu_device_id=spec.gpu_device_id)
    config = habitat.get_config(DATASETS[spec.dataset]["benchmark"], overrides=overrides)
    data = habitat.make_dataset(config.habitat.dataset.type, config=config.habitat.dataset)
    return HabitatNav(config, data, spec.options, spec.scenes)


def _serve(conn: Any, spec: EnvSpec) -> None:
    """The child's loop: build, then answer (method, args) calls until ``close``."""
    try:
        nav = build_nav(spec)
        conn.send((True, nav.num_categories))
    except Exception as e:  # reported to the parent, which raises it with this env's identity
        conn.send((False, f"{type(e).__name__}: {e}"))
        return
    while True:
        method, args = conn.recv()
        try:
            result = getattr(nav, method)(*args)
            rng = next((a for a in args if isinstance(a, np.random.Generator)), None)
            conn.send((True, (result, None if rng is None else rng.bit_generator.state)))
        except Exception as e:
            conn.send((False, f"{type(e).__name__}: {e}"))
        if method == "close":
            return


class HabitatProcess:
    """An ``Episodic`` whose ``HabitatNav`` lives in a spawned process of its own."""

    def __init__(self, spec: EnvSpec):
        self.spec = spec
        context = multiprocessing.get_context("spawn")  # no forked copy of a parent's GL / CUDA state
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, spec), daemon=True)
        self._process.start()
        child.close()
        self.num_categories = self._receive()

    def _receive(self) -> Any:
        try:
            ok, value = self._conn.recv()
        except EOFError:  # the process died (habitat-sim aborts and segfaults end it without a word)
            self._process.join(timeout=5)
            ok, value = False, f"the env process exited with code {self._process.exitcode}"
        if not ok:
            raise RuntimeError(f"habitat env on gpu {self.spec.gpu_device_id}, scenes {list(self.spec.scenes)}: "
                               f"{value}")
        return value

    def _call(self, method: str, *args: Any) -> Any:
        self._conn.send((method, args))
        result, rng_state = self._receive()
        for a in args:  # the child drew from a copy of the stream: carry its state back
            if isinstance(a, np.random.Generator):
                a.bit_generator.state = rng_state
        return result

    def new_trial(self, rng: np.random.Generator) -> None:
        self._call("new_trial", rng)

    def new_episode(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return self._call("new_episode", rng)

    def step(self, action: Any) -> Transition:
        return self._call("step", int(action))

    def close(self) -> None:
        if self._process.is_alive():
            self._call("close")
            self._process.join(timeout=30)
