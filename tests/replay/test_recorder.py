"""The recorder keeps exactly the episodes its selection asks for, with the actions and rewards taken."""
from __future__ import annotations

import numpy as np
import pytest

from embodied.replay.episode_file import read
from embodied.replay.recorder import parse_which
from replay_recording import record


def test_all_episodes_are_recorded_exactly(tmp_path):
    rec, log = record(tmp_path, which="all", policy="mixed", episodes=10)
    eps = [read(p) for p in rec.written]
    assert len(eps) >= 10 and rec.completed == len(eps)
    # The first episodes ended in order; each file holds what was stepped in that env.
    logged = {(tuple(a), tuple(np.float32(r))) for a, r, _ in log}
    for ep in eps[:len(log)]:
        assert (tuple(ep.actions.tolist()), tuple(ep.rewards.tolist())) in logged
        assert ep.spec["split"] == "test" and ep.meta["policy"] == "mixed" and ep.meta["resolution"] == 32
        assert ep.metrics["episode_length"] == len(ep)
        np.testing.assert_array_equal(ep.poses[0, :2], ep.spec["start"])
    assert {ep.meta["episode_index"] for ep in eps} == {0, 1}
    assert any(ep.success for ep in eps) and not all(ep.success for ep in eps)


@pytest.mark.parametrize("which", ["every:3", "failures", "none"])
def test_selection(tmp_path, which):
    everything, _ = record(tmp_path / "all", which="all", policy="mixed", episodes=12)
    chosen, _ = record(tmp_path / "sel", which=which, policy="mixed", episodes=12)
    assert chosen.completed == everything.completed
    names = [p.name.rsplit("-", 1)[1] for p in everything.written]  # completion counter, shared order
    picked = [p.name.rsplit("-", 1)[1] for p in chosen.written]
    if which == "every:3":
        expected = names[::3]
    elif which == "failures":
        expected = [n for n, p in zip(names, everything.written) if not read(p).success]
        assert expected, "the mixed policy should fail sometimes"
    else:
        expected = []
    assert picked == expected


def test_attention_keeps_the_heaviest_past_positions(tmp_path):
    """Attention over past steps of the trial is stored as the world positions of the top-k steps."""
    trail: dict[int, list] = {}

    def attention(env, obs):
        out = []
        for i in range(env.num_envs):
            if obs["is_trial_first"][i]:
                trail[i] = []
            pose = env.agent_pose(i)
            trail[i].append((pose["x"], pose["y"]))
            mass = np.zeros(len(trail[i]), np.float32)
            mass[0] = 0.7  # the trial's first step gets most, the current one some
            mass[-1] += 0.2
            out.append(mass)
        return out

    rec, _ = record(tmp_path, attention=attention, episodes=4)
    for path in rec.written:
        ep = read(path)
        assert ep.attention_pos.shape == (len(ep), 32, 2)
        first = ep.poses[0, :2] if ep.meta["episode_index"] == 0 else None
        for t in range(len(ep)):
            heavy = ep.attention_pos[t, 0]
            if first is not None and t > 0:
                np.testing.assert_allclose(heavy, first)  # mass 0.7 on the trial's first position
                np.testing.assert_allclose(ep.attention_pos[t, 1], ep.poses[t, :2])  # then the current one
            assert ep.attention_mass[t, 0] == pytest.approx(0.7 if t > 0 or ep.meta["episode_index"] else 0.9)


def test_bad_selection_names_the_allowed_values():
    with pytest.raises(ValueError, match="allowed values: all, none, failures, every:K"):
        parse_which("every:0")
    assert parse_which("every:4") == ("every", 4)
