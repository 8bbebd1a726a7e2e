"""sample-factory 2.1.1 APPO on our house (``embodied/House-v0`` through gymnasium) with our ``cnn`` trunk.

Run in the peer-sf side env (benchmarks/peer/sideenv.sh) with the repository root on PYTHONPATH; it trains
until it is stopped (SIGINT), since ``--train_for_seconds`` does nothing in 2.1.1. Progress: sample-factory's
own log lines ``Fps is (...). Total num frames: N. ...`` every 5 s, which benchmarks/peer_throughput.py reads.

    python benchmarks/peer/sf_house.py --resolution 32 --train_dir /tmp/sf [more sample-factory flags]
"""
from __future__ import annotations

import argparse
import enum
import sys

import gymnasium

if not hasattr(gymnasium.vector, "AutoresetMode"):  # gymnasium < 1.0 (sample-factory's pin) lacks it: the export
    class AutoresetMode(enum.Enum):                 # names it for its vector env, which is not used here
        NEXT_STEP, SAME_STEP, DISABLED = "NextStep", "SameStep", "Disabled"

    gymnasium.vector.AutoresetMode = AutoresetMode

import envs  # noqa: E402,F401  (registers embodied/House-v0)
from sample_factory.algo.utils.context import global_model_factory  # noqa: E402
from sample_factory.cfg.arguments import parse_full_cfg, parse_sf_args  # noqa: E402
from sample_factory.envs.env_utils import register_env  # noqa: E402
from sample_factory.model.encoder import Encoder  # noqa: E402
from sample_factory.train import run_rl  # noqa: E402

from benchmarks.peer.trunk import FEATURES, HouseTrunk, channels_first  # noqa: E402

ENV_KWARGS = {"max_steps": 128}  # the training episode cap of `embodied train env=house` (configs/trainer/env/house.yaml)


def make_house(full_env_name, cfg=None, env_config=None, render_mode=None):
    seed = 0 if env_config is None else 1000 * env_config.worker_index + env_config.vector_index
    return gymnasium.make("embodied/House-v0", resolution=cfg.house_resolution, seed=seed, **ENV_KWARGS)


class HouseEncoder(Encoder):
    def __init__(self, cfg, obs_space):
        super().__init__(cfg)
        self.trunk = HouseTrunk(obs_space["goal"].shape[0], obs_space["gps"].shape[0])

    def forward(self, obs):
        rgb = channels_first(obs["rgb"], 3).float() / 255.0
        return self.trunk(rgb, channels_first(obs["depth"], 1), obs["goal"], obs["gps"])

    def get_out_size(self) -> int:
        return FEATURES


def main(argv: list[str]) -> int:
    own = argparse.ArgumentParser(add_help=False)
    own.add_argument("--resolution", type=int, default=32)
    args, rest = own.parse_known_args(argv)
    register_env("house", make_house)
    global_model_factory().register_encoder_factory(HouseEncoder)
    sf_argv = ["--env=house", "--algo=APPO", "--experiment=house", "--device=cpu",
               "--num_workers=2", "--num_envs_per_worker=8", "--rollout=64", "--recurrence=64", "--num_epochs=2",
               "--batch_size=128", "--num_batches_per_epoch=8",  # 8 minibatches of 2 x 64 steps, as ours
               "--use_rnn=True", "--rnn_type=gru", "--rnn_size=128", "--rnn_num_layers=1",
               "--normalize_input=False", "--train_for_env_steps=10000000000", "--save_every_sec=100000",
               "--with_wandb=False", *rest]
    parser, _ = parse_sf_args(sf_argv)
    parser.add_argument("--house_resolution", type=int, default=args.resolution)
    cfg = parse_full_cfg(parser, sf_argv)
    return run_rl(cfg)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
