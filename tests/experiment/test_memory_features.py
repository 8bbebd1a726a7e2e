"""The memory-features probe: its readout against data whose answer is known, and the finding it reports
(the goal-conditioned encoder's features do not say where other categories are; the goal-free ones do)."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from embodied.policy.encoders import VisualEncoder
from envs.house.categories import NUM_CATEGORIES

_spec = importlib.util.spec_from_file_location(
    "memory_features_bench", Path(__file__).resolve().parents[2] / "benchmarks" / "memory_features.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


@pytest.mark.parametrize("seed", range(3))
def test_probe_reads_a_category_that_is_in_the_features_and_not_noise(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    seen = rng.random((2 * n, NUM_CATEGORIES)) < 0.3
    c = rng.integers(0, NUM_CATEGORIES, 2 * n)
    y = seen[np.arange(2 * n), c]
    informative = torch.from_numpy(np.concatenate([seen, rng.normal(size=(2 * n, 8))], 1).astype(np.float32))
    noise = torch.from_numpy(rng.normal(size=(2 * n, NUM_CATEGORIES + 8)).astype(np.float32))
    tr, te = slice(0, n), slice(n, 2 * n)
    assert bench.probe_f1(informative[tr], c[tr], y[tr], informative[te], c[te], y[te], seed=seed) > 0.95
    assert bench.probe_f1(noise[tr], c[tr], y[tr], noise[te], c[te], y[te], seed=seed) < 0.55


@pytest.mark.parametrize("seed", range(3))
def test_later_goal_differs_from_the_episode_goal(seed):
    rng = np.random.default_rng(seed)
    labels = (rng.random((500, 4 * NUM_CATEGORIES + 1)) < 0.05).astype(np.float32)
    g, c = bench.draw(labels, rng)
    assert (g != c).all() and g.min() >= 0 and c.max() < NUM_CATEGORIES


@pytest.mark.parametrize("seed", range(4))
def test_goal_free_weights_say_where_later_goals_are_and_goal_conditioned_do_not(seed):
    train, test = bench.pretrain.collect(6000, 32, "train", seed), bench.pretrain.collect(2000, 32, "val", seed + 1)
    rng = np.random.default_rng(seed)
    (g_train, c_train), (g_test, c_test) = bench.draw(train.labels, rng), bench.draw(test.labels, rng)
    y_train = bench.in_view(train.labels)[np.arange(len(c_train)), c_train]
    y_test = bench.in_view(test.labels)[np.arange(len(c_test)), c_test]
    conditioned = VisualEncoder(**bench.CNN, goal_size=NUM_CATEGORIES, weights="house_cnn32").eval()
    free = VisualEncoder(**bench.CNN, weights="house_cnn32_all").eval()
    f1_conditioned = bench.probe_f1(bench.features(conditioned, train, g_train), c_train, y_train,
                                    bench.features(conditioned, test, g_test), c_test, y_test, seed=seed)
    f1_free = bench.probe_f1(bench.features(free, train, None), c_train, y_train,
                             bench.features(free, test, None), c_test, y_test, seed=seed)
    assert f1_free > f1_conditioned + 0.1, (f1_free, f1_conditioned)
