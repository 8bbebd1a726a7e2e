"""A fatal error mid-training leaves an emergency checkpoint that `resume=` continues from (slow: ~1 minute)."""
from __future__ import annotations

import json

import envs
import pytest

from embodied import cli
from embodied.learner import checkpoint

pytestmark = pytest.mark.slow
TINY = ["cluster=inprocess", "cluster.num_workers=1", "trainer.num_envs=4", "trainer.rollout_steps=16",
        "trainer.update_every=8", "trainer.epochs=1", "trainer.minibatches=1", "progress=false",
        "tensorboard=false", "env.resolution=16", "policy.hidden=16", "policy.token_dim=16",
        "policy.encoder.channels=[4,8]", "policy.encoder.feature_dim=8", "policy.encoder.weights=null"]
CRASH_AT = 2 * 16 + 8 + 5  # the 5th step call after rollout 3's first update (in-process one batch of 4 envs
# steps 16 times a rollout)


def test_a_fatal_error_writes_a_checkpoint_that_resumes(tmp_path, capsys, monkeypatch):
    make, calls = envs.make, [0]

    def crashing(**cfg):
        env = make(**cfg)
        step = env.step

        def step_or_crash(action):
            calls[0] += 1
            if calls[0] == CRASH_AT:
                raise RuntimeError("simulator crashed")
            return step(action)

        env.step = step_or_crash
        return env

    monkeypatch.setattr(envs, "make", crashing)
    run = tmp_path / "r"
    rc = cli.main(["train", f"runs_dir={tmp_path}", "name=r", "trainer.total_steps=256", *TINY])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and calls[0] >= CRASH_AT
    assert err[-1].startswith("error: training stopped by RuntimeError: simulator crashed; emergency checkpoint ")
    assert err[-1].endswith(f"continue with: embodied train resume={run}")
    assert "Traceback" not in "\n".join(err) and "simulator crashed" in (run / "train.log").read_text()
    # the state at rollout 3's first update (2 rollouts of 64 steps, then 8 steps x 4 envs); the 16 steps
    # received since (4 steps x 4 envs) are discarded, not counted
    data = checkpoint.read(checkpoint.resolve(run))
    assert data["counters"]["env_steps"] == 128 + 32 and data["counters"]["steps_discarded"] == 16
    assert data["counters"]["updates"] == 5 and data["counters"]["rollouts"] == 2

    monkeypatch.undo()
    assert cli.main(["train", f"resume={run}", "progress=false"]) == 0
    counters = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["counters"]
    # rollout 3 is redone in full; its first 32 steps stay counted (an update was made of them), so the run
    # ends at the first rollout end past the budget
    assert counters["env_steps"] == 4 * 64 + 32 and counters["rollouts"] == 4 and counters["updates"] == 5 + 4
    assert counters["steps_discarded"] == 16


@pytest.mark.parametrize("overlap,discarded", [("false", 32), ("true", 64)], ids=["in-line", "beside-acting"])
def test_an_error_inside_an_update_saves_the_weights_from_before_it(tmp_path, capsys, monkeypatch, overlap, discarded):
    """The update that fails has already changed the weights: the emergency checkpoint holds the ones from
    before it, and the rollout's unfinished work is discarded as for any error. Beside acting the failure
    surfaces at the next boundary: the steps collected meanwhile are discarded too."""
    import torch

    from embodied.learner.ppo import PPOLearner

    update, calls, before, after = PPOLearner.update, [0], {}, {}

    def update_then_fail(self, *args):
        calls[0] += 1
        if calls[0] < 6:
            return update(self, *args)
        before.update({k: v.clone() for k, v in self.policy.state_dict().items()})
        update(self, *args)  # the weights change, then the update fails
        after.update({k: v.clone() for k, v in self.policy.state_dict().items()})
        raise FloatingPointError("loss is nan")

    monkeypatch.setattr(PPOLearner, "update", update_then_fail)
    run = tmp_path / "r"
    rc = cli.main(["train", f"runs_dir={tmp_path}", "name=r", "trainer.total_steps=256", *TINY,
                   f"trainer.overlap_updates={overlap}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and calls[0] == 6
    assert err[-1].startswith("error: training stopped by FloatingPointError: loss is nan; emergency checkpoint ")
    data = checkpoint.read(checkpoint.resolve(run))
    saved = data["policy"]
    assert all(torch.equal(saved[k], before[k]) for k in before)
    assert any(not torch.equal(saved[k], after[k]) for k in after)
    # updates 1-5 are in it (two rollouts of two updates, then rollout 3's first); the 32 steps of rollout
    # 3's second window, whose update failed, are discarded (beside acting also rollout 4's first 32)
    assert data["counters"]["updates"] == 5 and data["counters"]["env_steps"] == 128 + 32
    assert data["counters"]["steps_discarded"] == discarded
