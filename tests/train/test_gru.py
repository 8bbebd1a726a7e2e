"""The GRU baseline: ``step`` replays ``forward`` exactly, with the state reset only at new trials."""
from __future__ import annotations

import torch
from helpers import tiny_policy
from line_env import LineEnv


def test_step_matches_forward_across_episodes_and_a_new_trial():
    env = LineEnv(num_envs=3, seed=1, episodes_per_trial=3, max_steps=4)
    policy = tiny_policy(env, seed=1).eval()
    obs = env.reset(seed=1)
    gen = torch.Generator().manual_seed(0)
    steps, prev = [], torch.zeros(3, dtype=torch.long)
    for _ in range(20):  # several episodes and, with 3 episodes per trial, a new trial per env
        inputs = {k: torch.as_tensor(v) for k, v in obs.items()}
        inputs["prev_action"] = prev
        steps.append(inputs)
        prev = torch.randint(0, 3, (3,), generator=gen)
        obs, *_ = env.step({"action": prev.numpy()})
    seq = {k: torch.stack([s[k] for s in steps], 1) for k in steps[0]}
    assert bool(seq["is_trial_first"][:, 1:].any())
    with torch.no_grad():
        logits, values = policy(seq)
        state = policy.initial_state(3, 20)
        for i, inputs in enumerate(steps):
            lo, v, state = policy.step(inputs, state)
            assert torch.allclose(lo, logits[:, i], atol=1e-5) and torch.allclose(v, values[:, i], atol=1e-5)
        # the state really carries across episodes of a trial: without it the outputs differ
        fresh = policy.step(steps[-1], policy.initial_state(3, 20))[0]
        assert not torch.allclose(fresh, logits[:, -1], atol=1e-4)
