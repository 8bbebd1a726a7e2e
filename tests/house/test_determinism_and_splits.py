"""Same seed and actions give bit-identical observations; recorded episodes restart exactly; splits are
disjoint by construction and the test split is structurally different."""
from __future__ import annotations

import json

import numpy as np
import pytest

import envs.house
from envs.house import layout


def _run(seed: int, actions: np.ndarray, **kw):
    env = envs.house.make(num_envs=4, split="train", seed=seed, resolution=24, episodes_per_trial=3, **kw)
    out = [env.reset(seed=seed)]
    for a in actions:
        out.append(env.step({"action": a})[0])
    return out


def test_same_seed_same_actions_bit_identical():
    actions = np.random.default_rng(0).integers(0, 6, (120, 4))
    a, b = _run(7, actions), _run(7, actions)
    for oa, ob in zip(a, b):
        for key in oa:
            assert oa[key].tobytes() == ob[key].tobytes(), key
    assert any(o["is_trial_first"].any() for o in a[1:])  # new houses were drawn along the way
    c = _run(8, actions)
    assert any(oa["rgb"].tobytes() != oc["rgb"].tobytes() for oa, oc in zip(a, c))


@pytest.mark.parametrize("split", ["val", "test"])
def test_episode_spec_replays_bit_identically(split):
    env = envs.house.make(num_envs=3, split=split, seed=2, resolution=32)
    obs = env.reset()
    rng = np.random.default_rng(1)
    for _ in range(5):  # move into the episodes, then record env 1 from the start of its next episode
        obs, *_ = env.step({"action": rng.integers(1, 6, 3)})
    spec, frames, actions = None, [], []
    for _ in range(400):
        if spec is None and obs["is_first"][1]:
            spec, frames = json.loads(json.dumps(env.episode_spec(1))), [obs["rgb"][1].copy()]
        a = env.oracle_action()
        obs, _, done, _ = env.step({"action": a})
        if spec is not None:
            actions.append(int(a[1]))
            if done[1]:
                break
            frames.append(obs["rgb"][1].copy())
    assert spec is not None and spec["split"] == split and len(actions) > 3
    replay = envs.house.from_spec(spec)
    o = replay.reset()
    assert o["rgb"][0].tobytes() == frames[0].tobytes()
    for t, a in enumerate(actions[:-1]):
        o, _, done, _ = replay.step({"action": np.array([a])})
        assert not done[0]
        assert o["rgb"][0].tobytes() == frames[t + 1].tobytes(), t
    *_, done, info = replay.step({"action": np.array([actions[-1]])})
    assert done[0] and info["success"][0] == 1.0


def test_house_seeds_are_disjoint_and_record_their_split():
    seen = {}
    for split in layout.SPLITS:
        for i in range(500):
            s = layout.house_seed(split, i)
            assert s not in seen, (s, split, seen.get(s))
            seen[s] = split
            assert layout.split_of(s) == split
    for split in layout.SPLITS:
        env = envs.house.make(num_envs=4, split=split, seed=3, resolution=16, episodes_per_trial=1)
        env.reset()
        for _ in range(10):
            env.step({"action": np.zeros(4, np.int64)})  # stop at once: a new trial (house) every step
            for i in range(4):
                house = env.house(i)
                assert house.split == split and layout.split_of(house.seed) == split
                assert env.episode_spec(i)["split"] == split


def test_test_houses_are_structurally_new():
    rooms = {s: {layout.generate(layout.house_seed(s, i)).params["rooms"] for i in range(60)} for s in layout.SPLITS}
    assert rooms["train"] == rooms["val"] == set(layout.SPLIT_PARAMS["train"]["room_counts"])
    assert rooms["test"] == set(layout.SPLIT_PARAMS["test"]["room_counts"])
    assert not rooms["test"] & rooms["train"]


def test_generation_is_a_function_of_the_seed():
    a, b = layout.generate(301), layout.generate(301)
    assert a.grid.tobytes() == b.grid.tobytes() and a.objects.tobytes() == b.objects.tobytes()
    assert a.room_style.tobytes() == b.room_style.tobytes()
    assert layout.generate(304).grid.tobytes() != a.grid.tobytes()


def test_spec_split_must_match_the_house_seed():
    env = envs.house.make(num_envs=1, split="val", seed=0, resolution=16)
    env.reset()
    spec = env.episode_spec(0)
    with pytest.raises(ValueError, match="belongs to split 'val'"):
        envs.house.from_spec({**spec, "split": "train"})
    with pytest.raises(ValueError, match="lacks keys"):
        envs.house.from_spec({k: v for k, v in spec.items() if k != "start"})
