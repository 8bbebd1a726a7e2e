"""The env worker: a process (a Ray actor, or the driver itself in-process) stepping batches of envs.

A worker owns one env batch per *slot*; with the double buffer (``cluster.double_buffer``, on with Ray) the
collector gives slot 0 of every worker to one half and slot 1 to the other, so a worker simulates one half
while the learner's process runs inference on the other; without it (in-process) a worker has one slot.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from embodied.rollout.transforms import ObservationTransforms


class EnvWorker:
    """``len(seeds)`` env batches, each built with its own seed by ``factory(**env_cfg, seed=...)``.

    The default factory is ``envs.make`` (``env_cfg['name']`` picks the backend); a custom factory
    (a picklable callable returning an ``envs.contract.Env``) plugs in an env of one's own. ``teacher`` and
    ``encoder`` (``VisualEncoder.replica()`` of a frozen encoder) are the observation transforms of
    :mod:`embodied.rollout.transforms`: an imitation label beside each observation, features for frames.
    """

    def __init__(self, env_cfg: Mapping[str, Any], seeds: Sequence[int], factory: Callable[..., Any] | None = None,
                 teacher: str | None = None, record: Mapping[str, Any] | None = None,
                 encoder: Mapping[str, Any] | None = None):
        from embodied.allocator import keep_freed_memory

        keep_freed_memory()  # frames and encoder activations of every step reuse freed memory
        if factory is None:
            import envs

            factory = envs.make
        self.envs = [factory(**env_cfg, seed=int(seed)) for seed in seeds]
        self.recorders = None
        if record:  # episode files (embodied/replay) written beside the env loop, one recorder per slot
            from embodied.replay.recorder import EpisodeRecorder

            self.recorders = [EpisodeRecorder(record["directory"], record["which"], bool(record.get("frames")),
                                              backend=str(env_cfg.get("name", "house")),
                                              prefix=f"{record.get('prefix', '')}s{slot}-")
                              for slot in range(len(self.envs))]
        self.transforms = ObservationTransforms(self.envs, seeds, teacher, str(env_cfg.get("name", "house")),
                                                encoder)

    def use_encoder(self, encoder: Mapping[str, Any]) -> None:
        """From now on return the features of this frozen encoder (``VisualEncoder.replica()``), not frames."""
        self.transforms.use_encoder(encoder)

    def spec(self) -> dict[str, Any]:
        """Spaces and sizes, so the driver can build the policy and buffer without an env of its own."""
        env = self.envs[0]
        return {"obs_space": env.obs_space, "act_space": env.act_space, "metric_keys": tuple(env.metric_keys),
                "num_envs": env.num_envs, "episodes_per_trial": env.episodes_per_trial}

    def reset(self, slot: int, seed: int) -> dict[str, np.ndarray]:
        obs = self.envs[slot].reset(seed=int(seed))
        if self.recorders:
            self.recorders[slot].reset(self.envs[slot], obs)
        return self.transforms(slot, self.envs[slot], obs)

    def step(self, slot: int, action: np.ndarray):
        obs, reward, done, info = self.envs[slot].step({"action": action})
        if self.recorders:
            self.recorders[slot].step(self.envs[slot], action, obs, reward, info)
        self.transforms.commit(slot, action, reward)
        return self.transforms(slot, self.envs[slot], obs), reward, done, info

    def pid(self) -> int:
        return os.getpid()

    def node_id(self) -> str:
        """The hex id of this worker's Ray node (the pool places replacements by it)."""
        import ray

        return ray.get_runtime_context().get_node_id()

    def open_channel(self, authkey: bytes) -> tuple[str, int]:
        """Also serve this worker's methods over a direct connection (``embodied.rollout.channel``)."""
        import ray

        from embodied.rollout.channel import serve

        return serve(self, authkey, ray.util.get_node_ip_address())

    def close(self) -> None:
        for env in self.envs:
            env.close()
