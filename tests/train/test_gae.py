"""GAE over a multi-episode trial buffer, against a hand computation and a plain-Python reference."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from embodied.learner.gae import gae


def reference_gae(r, v, done, term, boot, gamma, lam):
    """Textbook per-step loop, one env at a time."""
    t = len(r)
    adv = [0.0] * t
    running = 0.0
    for i in reversed(range(t)):
        if done[i]:
            next_v = 0.0 if term[i] else v[i]
            running = 0.0
        else:
            next_v = boot if i == t - 1 else v[i + 1]
        delta = r[i] + gamma * next_v - v[i]
        running = delta + gamma * lam * running
        adv[i] = running
    return np.array(adv)


def test_hand_computed_three_steps():
    # Episode A = step 0 (terminal), episode B = steps 1-2 running, bootstrap 4 at t = 3.
    g, l = 0.5, 0.5
    r = torch.tensor([[1.0, 0.0, 2.0]])
    v = torch.tensor([[3.0, 1.0, 2.0]])
    done = torch.tensor([[True, False, False]])
    adv, ret = gae(r, v, done, done.clone(), torch.tensor([4.0]), g, l)
    d2 = 2.0 + g * 4.0 - 2.0            # = 2
    d1 = 0.0 + g * 2.0 - 1.0            # = 0
    d0 = 1.0 + 0.0 - 3.0                # terminal: no value after it
    expected = torch.tensor([[d0, d1 + g * l * d2, d2]])
    assert torch.allclose(adv, expected)
    assert torch.allclose(ret, expected + v)


def test_truncation_bootstraps_with_own_value_and_terminal_with_zero():
    r = torch.zeros(1, 1)
    v = torch.tensor([[5.0]])
    done = torch.tensor([[True]])
    trunc, _ = gae(r, v, done, torch.tensor([[False]]), torch.tensor([100.0]), 0.9, 0.95)
    term, _ = gae(r, v, done, torch.tensor([[True]]), torch.tensor([100.0]), 0.9, 0.95)
    assert trunc.item() == pytest.approx(0.9 * 5 - 5)
    assert term.item() == pytest.approx(-5)


@pytest.mark.parametrize("seed", range(5))
def test_random_buffers_match_reference(seed):
    rng = np.random.default_rng(seed)
    n, t = 4, 37
    r = rng.normal(size=(n, t)).astype(np.float32)
    v = rng.normal(size=(n, t)).astype(np.float32)
    done = rng.random((n, t)) < 0.15
    term = done & (rng.random((n, t)) < 0.6)
    boot = rng.normal(size=n).astype(np.float32)
    adv, ret = gae(*(torch.as_tensor(x) for x in (r, v, done, term, boot)), 0.99, 0.95)
    for i in range(n):
        ref = reference_gae(r[i], v[i], done[i], term[i], boot[i], 0.99, 0.95)
        np.testing.assert_allclose(adv[i].numpy(), ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ret.numpy(), adv.numpy() + v, rtol=1e-5, atol=1e-5)
