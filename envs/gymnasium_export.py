"""Our batched simulators as gymnasium envs, so CleanRL, Stable-Baselines3, RLlib or TorchRL can use them.

``EmbodiedEnv`` is a true ``gymnasium.Env`` over a one-env batch; ``EmbodiedVectorEnv`` is a
``gymnasium.vector.VectorEnv`` over ONE batched env of ``num_envs`` (not N copies). Observations are the
backend's ``obs_space`` without the contract flags and counters; the trial structure goes into ``info``:
``episode_index``, ``is_trial_first``, ``step_index``, and at an episode's end the backend's metrics
(``success``, ``spl``, ...) and, where the backend has one, ``episode_spec`` (the house's replay spec).
``terminated`` is the contract's ``is_terminal`` (stop, death); ``truncated`` is an end by the step cap
(``is_last and not is_terminal``).

Autoreset: our batched envs reset inside ``step`` (envs/contract.py), so the observation returned by the
step that ends an episode is already the NEXT episode's first observation; the ended episode's last
observation is never produced. Hence:

- the vector env uses ``AutoresetMode.SAME_STEP`` (gymnasium's name for exactly this); ``info["final_info"]``
  holds the ended episodes' metrics; ``info["final_obs"]`` is not given (the simulator has no such frame);
- the single env returns that next-first observation from the ending ``step`` as well, keeps it, and its
  following ``reset()`` (without a seed) returns it, so the episode sequence (trials) continues unbroken.
  ``reset(seed=s)`` always starts a new trial from seed ``s``.

Registered ids (on ``import envs``; without it use ``gymnasium.make("envs:embodied/House-v0")``):
``embodied/House-v0``, ``embodied/Darkroom-v0``, ``embodied/Crafter-v0``; keyword arguments are the
backend's ``make`` arguments (house: split, resolution, episodes_per_trial, goal_per, start_per, gps_frame, goal_position,
max_steps, ...).
"""
from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

from envs.backends import make
from envs.contract import Env, flag_spaces

CONTRACT_KEYS = tuple(flag_spaces())
INFO_KEYS = ("episode_index", "is_trial_first", "step_index")
IMAGE_KEYS = ("rgb", "image")  # a backend's first-person image, rendered by backends without a map


def _spaces(env: Env) -> tuple[gymnasium.spaces.Dict, gymnasium.Space]:
    obs = gymnasium.spaces.Dict({k: v for k, v in env.obs_space.items() if k not in CONTRACT_KEYS})
    return obs, env.act_space["action"]


def _image_key(env: Env) -> str | None:
    return next((k for k in IMAGE_KEYS if k in env.obs_space), None)


def _can_render(env: Env) -> bool:
    return hasattr(env, "render_topdown") or _image_key(env) is not None


class EmbodiedEnv(gymnasium.Env):
    """One env of backend ``backend`` (a one-env batch); see the module docstring for the autoreset."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, backend: str, render_mode: str | None = None, **kwargs: Any):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode={render_mode!r} is not supported; allowed: None, 'rgb_array'")
        self._env = make(backend, num_envs=1, **kwargs)
        if not _can_render(self._env):
            self.metadata = {**self.metadata, "render_modes": []}
            if render_mode is not None:
                raise ValueError(f"backend {backend!r} has no image to render; use render_mode=None")
        self.backend, self.render_mode = backend, render_mode
        self.observation_space, self.action_space = _spaces(self._env)
        self._next: dict | None = None  # the next episode's first observation, kept by an ending step
        self._last: dict | None = None
        self._spec: dict | None = None  # the running episode's spec, read at its start (given at its end)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        super().reset(seed=seed)
        if seed is not None or self._next is None:
            self._last = self._env.reset(seed=seed)
        else:
            self._last = self._next
        self._next = None
        self._spec = self._episode_spec()
        return _strip(self._last, 0), _info(self._last, 0)

    def step(self, action) -> tuple[dict, float, bool, bool, dict]:
        obs, reward, _, info = self._env.step({"action": np.asarray([action])})
        self._last = obs
        info_out = _info(obs, 0)
        terminal, last = bool(obs["is_terminal"][0]), bool(obs["is_last"][0])
        if last:
            self._next = obs
            info_out.update({k: float(info[k][0]) for k in self._env.metric_keys})
            if self._spec is not None:
                info_out["episode_spec"] = self._spec
            self._spec = self._episode_spec()
        return _strip(obs, 0), float(reward[0]), terminal, last and not terminal, info_out

    def _episode_spec(self) -> dict | None:
        return self._env.episode_spec(0) if hasattr(self._env, "episode_spec") else None

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            return None
        if hasattr(self._env, "render_topdown"):
            return self._env.render_topdown(0)
        return np.asarray(self._last[_image_key(self._env)][0]) if self._last is not None else None

    def close(self) -> None:
        self._env.close()


def _strip(obs: dict, i: int | slice) -> dict:
    return {k: v[i] for k, v in obs.items() if k not in CONTRACT_KEYS}


def _info(obs: dict, i: int | slice) -> dict:
    return {k: obs[k][i] for k in INFO_KEYS if k in obs}


class EmbodiedVectorEnv(gymnasium.vector.VectorEnv):
    """``num_envs`` envs of backend ``backend`` stepped as ONE batched simulator (SAME_STEP autoreset)."""

    # gymnasium < 1.0 has no autoreset modes (and a different vector API): there the single env still works
    metadata = {"render_modes": ["rgb_array"],
                "autoreset_mode": getattr(getattr(gymnasium.vector, "AutoresetMode", None), "SAME_STEP", None)}

    def __init__(self, backend: str, num_envs: int = 1, render_mode: str | None = None, **kwargs: Any):
        if self.metadata["autoreset_mode"] is None:
            raise RuntimeError(f"the vector env needs gymnasium>=1.0 (installed: {gymnasium.__version__}); "
                               "gymnasium.make (one env) works with this version")
        self._env = make(backend, num_envs=num_envs, **kwargs)
        if render_mode is not None and not hasattr(self._env, "render_topdown"):
            raise ValueError(f"render_mode={render_mode!r}: only the house vector env renders (its top-down maps)")
        self.backend, self.render_mode, self.num_envs = backend, render_mode, int(num_envs)
        self.single_observation_space, self.single_action_space = _spaces(self._env)
        self.observation_space = gymnasium.vector.utils.batch_space(self.single_observation_space, self.num_envs)
        self.action_space = gymnasium.vector.utils.batch_space(self.single_action_space, self.num_envs)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        super().reset(seed=seed)
        obs = self._env.reset(seed=seed)
        return _strip(obs, slice(None)), _info(obs, slice(None))

    def step(self, actions) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray, dict]:
        obs, reward, last, info = self._env.step({"action": np.asarray(actions)})
        terminated = obs["is_terminal"].copy()
        out = _info(obs, slice(None))
        if last.any():
            out["final_info"] = {k: info[k] for k in self._env.metric_keys}
            out["_final_info"] = last.copy()
        return _strip(obs, slice(None)), reward, terminated, last & ~terminated, out

    def render(self) -> tuple[np.ndarray, ...] | None:
        if self.render_mode is None:
            return None
        return tuple(self._env.render_topdown(i) for i in range(self.num_envs))

    def close_extras(self, **kwargs: Any) -> None:
        self._env.close()


IDS = {"embodied/House-v0": "house", "embodied/Darkroom-v0": "darkroom", "embodied/Crafter-v0": "crafter"}


def register() -> None:
    """Register the ``embodied/...`` ids with gymnasium (idempotent)."""
    for env_id, backend in IDS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(env_id, entry_point=f"{__name__}:EmbodiedEnv",
                               vector_entry_point=f"{__name__}:EmbodiedVectorEnv", kwargs={"backend": backend})
