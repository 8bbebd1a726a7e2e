"""sb3-contrib 2.9.2 RecurrentPPO on our house (``embodied/House-v0`` through gymnasium) with our ``cnn`` trunk.

Run in the peer-sb3 side env (benchmarks/peer/sideenv.sh) with the repository root on PYTHONPATH: 16 envs
(SB3's DummyVecEnv of gymnasium envs), n_steps 64, 2 epochs of 8 minibatches, one LSTM of 128 shared by
actor and critic, linear heads. Trains until stopped (SIGINT) or ``--steps``; after every rollout and update
it prints ``PEER_PROGRESS <env steps> <unix time>`` (flushed), which benchmarks/peer_throughput.py reads.

    python benchmarks/peer/sb3_house.py --resolution 32
"""
from __future__ import annotations

import argparse
import sys
import time

import gymnasium
import torch
from sb3_contrib import RecurrentPPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.vec_env import DummyVecEnv

import envs  # noqa: F401  (registers embodied/House-v0)
from benchmarks.peer.trunk import FEATURES, HouseTrunk, channels_first

ENV_KWARGS = {"max_steps": 128}  # the training episode cap of `embodied train env=house` (configs/trainer/env/house.yaml)


class HouseExtractor(BaseFeaturesExtractor):
    """SB3 has already scaled ``rgb`` to [0, 1] and put it channels first (VecTransposeImage); depth is as is."""

    def __init__(self, observation_space: gymnasium.spaces.Dict):
        super().__init__(observation_space, FEATURES)
        self.trunk = HouseTrunk(observation_space["goal"].shape[0], observation_space["gps"].shape[0])

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.trunk(channels_first(obs["rgb"], 3), channels_first(obs["depth"], 1), obs["goal"], obs["gps"])


class Progress(BaseCallback):
    def _on_step(self) -> bool:
        return True

    def _on_rollout_start(self) -> None:  # after each update (and before the first rollout)
        print(f"PEER_PROGRESS {self.num_timesteps} {time.time():.3f}", flush=True)


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--resolution", type=int, default=32)
    p.add_argument("--num-envs", type=int, default=16)
    p.add_argument("--steps", type=int, default=10**10)
    p.add_argument("--threads", type=int, default=1, help="torch threads (1, as sample-factory's processes and ours)")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    vec = DummyVecEnv([lambda i=i: gymnasium.make("embodied/House-v0", resolution=a.resolution, seed=i, **ENV_KWARGS)
                       for i in range(a.num_envs)])
    model = RecurrentPPO("MultiInputLstmPolicy", vec, n_steps=64, batch_size=128, n_epochs=2, device="cpu", seed=0,
                         policy_kwargs={"features_extractor_class": HouseExtractor, "lstm_hidden_size": 128,
                                        "n_lstm_layers": 1, "shared_lstm": True, "enable_critic_lstm": False,
                                        "net_arch": []})
    model.set_logger(Logger(folder=None, output_formats=[]))  # SB3's default logger leaves a /tmp/SB3-* folder per run
    try:
        model.learn(a.steps, callback=Progress())
    except KeyboardInterrupt:
        pass
    print(f"PEER_PROGRESS {model.num_timesteps} {time.time():.3f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
