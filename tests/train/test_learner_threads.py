"""How many torch threads the learner takes: the cores that no env-worker process on this machine needs."""
from __future__ import annotations

import os

import line_env
import pytest
import torch
from helpers import line_train_cfg

from embodied.commands.train import validate
from embodied.config import ConfigError, load
from embodied.learner.trainer import Trainer, learner_threads

CORES = len(os.sched_getaffinity(0))


def test_auto_leaves_a_core_to_each_worker_process_and_takes_all_in_process():
    assert learner_threads("auto", {"mode": "inprocess", "num_workers": 2}) == CORES
    assert learner_threads("auto", {"mode": "local", "num_workers": 1}) == max(1, CORES - 1)
    assert learner_threads("auto", {"mode": "ray", "num_workers": CORES + 3}) == 1
    assert learner_threads("auto", {"mode": "inprocess"}, local_ranks=CORES) == 1  # torchrun: a share each
    assert learner_threads(3, {"mode": "inprocess"}) == 3
    # the updates also take the cores of the workers, which wait for them
    assert learner_threads("auto", {"mode": "local", "num_workers": 1}, updates=True) == CORES


def test_the_trainer_sets_them(tmp_path):
    before = torch.get_num_threads()
    try:
        t = Trainer(line_train_cfg(torch_threads="auto", update_threads="auto"), tmp_path / "run", remote=False,
                    progress=False, tensorboard=False, env_factory=line_env.make)
        t.close()
        assert torch.get_num_threads() == CORES and t.learner.hp.update_threads == CORES
        t = Trainer(line_train_cfg(torch_threads=1, update_threads="auto"), tmp_path / "shared", remote=False,
                    progress=False, tensorboard=False, env_factory=line_env.make)
        t.close()
        assert torch.get_num_threads() == 1 and t.learner.hp.update_threads == 0  # 0: the torch_threads
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("bad", ["0", "-2", "many", "true"])
def test_a_bad_thread_count_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="trainer.torch_threads.*auto or a positive integer"):
        validate(load("train", [f"trainer.torch_threads={bad}"]))
    if bad != "0":  # 0: the updates use torch_threads
        with pytest.raises(ConfigError, match="trainer.update_threads"):
            validate(load("train", [f"trainer.update_threads={bad}"]))
