"""``cluster.double_buffer``: in-process one inference call per step for all envs, with Ray two alternating halves."""
from __future__ import annotations

import line_env
import pytest
from helpers import line_train_cfg

from embodied.learner.trainer import Trainer


def counted_rollout(tmp_path, double_buffer: bool, workers: int) -> tuple[Trainer, list[int]]:
    """One rollout without updates; the batch size of every inference call."""
    cfg = line_train_cfg(num_envs=8)
    cfg.cluster.num_workers, cfg.cluster.double_buffer = workers, double_buffer
    trainer = Trainer(cfg, tmp_path / "run", remote=False, progress=False, tensorboard=False,
                      env_factory=line_env.make)
    sizes, act = [], trainer.learner.act

    def counting(inputs, state, generator=None):
        sizes.append(len(inputs["is_first"]))
        return act(inputs, state, generator)

    trainer.learner.act = counting
    assert trainer.rollout(learn=False)
    return trainer, sizes


@pytest.mark.parametrize("workers", [1, 2])
def test_without_double_buffer_every_step_is_one_inference_call_for_all_envs(tmp_path, workers):
    trainer, sizes = counted_rollout(tmp_path, double_buffer=False, workers=workers)
    try:
        assert sizes == [8] * trainer.T
        assert trainer.collector.rows == [slice(0, 8)]
        assert trainer.counters["env_steps"] == 8 * trainer.T
        # every env's row of the buffer got outcomes (episodes of at most 6 steps end in a 16-step trial)
        assert trainer.buffer.done[:, :trainer.T].any(dim=1).all()
        assert len({id(w) for w in trainer.pool.workers}) == workers
        assert all(len(w.envs) == 1 and w.envs[0].num_envs == 8 // workers for w in trainer.pool.workers)
    finally:
        trainer.close()


def test_with_double_buffer_the_halves_alternate(tmp_path):
    trainer, sizes = counted_rollout(tmp_path, double_buffer=True, workers=2)
    try:
        assert sizes == [4] * (2 * trainer.T)
        assert trainer.collector.rows == [slice(0, 4), slice(4, 8)]
        assert all(len(w.envs) == 2 and w.envs[0].num_envs == 2 for w in trainer.pool.workers)
        assert trainer.counters["env_steps"] == 8 * trainer.T
    finally:
        trainer.close()


def test_configs_saved_before_the_key_keep_their_layout():
    from embodied.rollout.collector import double_buffer

    assert double_buffer({"mode": "inprocess"}) is False
    assert double_buffer({"mode": "local"}) is True and double_buffer({"mode": "ray"}) is True
    assert double_buffer({"mode": "inprocess", "double_buffer": True}) is True


def test_auto_gives_local_ray_one_batch_when_the_updates_run_beside_acting():
    """On local Ray the update thread beside acting takes the second batch's core; across machines (``ray``) the
    workers have their own cores, and in line the second batch simulates while the learner infers."""
    from embodied.config import load
    from embodied.learner.background import overlap_planned
    from embodied.rollout.collector import double_buffer

    local, ray = {"mode": "local", "double_buffer": "auto"}, {"mode": "ray", "double_buffer": "auto"}
    assert double_buffer(local, overlap=True) is False and double_buffer(local, overlap=False) is True
    assert double_buffer(ray, overlap=True) is True
    default = load("train", [])  # the house default: a frozen encoder, updates beside acting
    assert overlap_planned(default) and not double_buffer(default.cluster, overlap_planned(default))
    for overrides in (["policy.encoder.frozen=false"], ["trainer.overlap_updates=false"]):
        cfg = load("train", overrides)
        assert not overlap_planned(cfg) and double_buffer(cfg.cluster, overlap_planned(cfg))
    assert double_buffer(load("train", ["cluster.double_buffer=true"]).cluster, True)
