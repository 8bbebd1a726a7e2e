"""The pretraining labels (envs/house/perception.py) agree with what the env itself does at the same pose."""
from __future__ import annotations

import numpy as np

import envs.house
from envs.house.categories import NUM_CATEGORIES
from envs.house.perception import GROUPS, NUM_LABELS, label_names
from envs.house.task import FORWARD, NUM_ACTIONS, STOP


def _walk(seed: int, steps: int):
    """An env on random train houses after ``steps`` oracle steps with random detours (fresh seed each run)."""
    env = envs.house.make(num_envs=6, split="train", seed=seed, resolution=16, max_steps=64)
    env.reset()
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        action = env.oracle_action()
        move = rng.random(env.num_envs) < 0.4
        action[move] = rng.integers(1, NUM_ACTIONS, int(move.sum()))
        env.step({"action": action})
    return env


def test_stop_and_free_labels_predict_the_outcome_of_stop_and_forward():
    seed = int(np.random.SeedSequence().entropy % 2**31)
    successes = blocked = 0
    for steps in range(0, 60, 7):
        env = _walk(seed, steps)  # the walk is deterministic: two more copies are at the same poses
        labels = env.perception_labels()
        assert labels.shape == (env.num_envs, NUM_LABELS) and set(np.unique(labels)) <= {0.0, 1.0}
        _, _, done, info = _walk(seed, steps).step({"action": np.full(env.num_envs, STOP)})
        assert done.all()
        stop_label = labels[np.arange(env.num_envs), env._goal]
        np.testing.assert_array_equal(info["success"], stop_label, err_msg=f"seed {seed}")
        moved = _walk(seed, steps)
        _, _, done, _ = moved.step({"action": np.full(env.num_envs, FORWARD)})
        went = np.any(moved._pos != env._pos, axis=1)
        np.testing.assert_array_equal((labels[:, -1] == 1)[~done], went[~done], err_msg=f"seed {seed}")
        successes += int(stop_label.sum())
        blocked += int((labels[:, -1] == 0).sum())
    assert successes + blocked > 0  # both outcomes of at least one label were exercised


def test_oracle_stops_only_where_the_stop_label_of_the_goal_is_set():
    env = _walk(int(np.random.SeedSequence().entropy % 2**31), 0)
    stops = 0
    for _ in range(300):
        action = env.oracle_action()
        labels = env.perception_labels()
        at = action == STOP
        assert (labels[at, env._goal[at]] == 1).all()
        stops += int(at.sum())
        env.step({"action": action})
    assert stops > 10


def test_label_names_match_the_layout():
    names = label_names()
    assert len(names) == NUM_LABELS == len(GROUPS) * NUM_CATEGORIES + 1
    assert names[0].startswith("stop/") and names[-1] == "free"
