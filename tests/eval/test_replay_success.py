"""The copy reference (`replay:`): in a trial whose episodes start alike, replaying a success succeeds again."""
from __future__ import annotations

import numpy as np

import envs
from embodied.rollout.actor import ReplaySuccess, make_actor
from envs.house.task import LEFT, RIGHT
from embodied.rollout.episodes import Episodes

SAMESTART = {"split": "test", "resolution": 32, "max_steps": 60, "goal_per": "trial", "start_per": "trial",
             "gps_frame": "trial"}


def _rows(policy: str, fewshot: int = 0) -> dict[tuple[int, int], dict]:
    """Two trials of three episodes in each of 6 envs, keyed by (env, episode number within the env)."""
    env = envs.make(name="house", **SAMESTART, num_envs=6, seed=3, episodes_per_trial=3)
    counts: dict[int, int] = {}
    out = {}
    try:
        for row in Episodes(env, make_actor(policy, seed=1, fewshot=fewshot), 6, seed=3):
            k = counts.get(row["env"], 0)
            counts[row["env"]] = k + 1
            out[row["env"], k] = row
    finally:
        env.close()
    return out


def test_a_demonstrated_success_is_replayed_exactly_and_only_within_its_trial():
    # the oracle drives each trial's first episode, then a random policy: with the copy, every later episode
    # walks the oracle's way; the next trial (another house) starts without it
    oracle, copied, plain = _rows("oracle"), _rows("replay:random", fewshot=1), _rows("random", fewshot=1)
    assert isinstance(make_actor("replay:random"), ReplaySuccess)
    replayed = 0
    for (env, k), row in copied.items():
        first = oracle[env, k - k % 3]
        if k % 3 == 0:  # a trial's first episode is the oracle's, not a copy of the previous trial's success
            assert (row["success"], row["episode_length"]) == (first["success"], first["episode_length"])
        elif first["success"]:
            assert row["success"] == 1.0 and row["episode_length"] == first["episode_length"]
            replayed += 1
    assert replayed >= 12  # of 24 later episodes: most trials' demonstrations succeed within the 60-step cap
    later = [r["success"] for (_, k), r in plain.items() if k % 3]
    assert sum(later) / len(later) < 0.5  # without the copy the random policy rarely finds the goal


def test_as_a_teacher_it_copies_the_agents_own_success_while_the_agent_keeps_to_that_way():
    from embodied.rollout.transforms import ORACLE_KEY, WEIGHT_KEY, Teacher
    from embodied.rollout.worker import EnvWorker

    worker = EnvWorker({"name": "house", **SAMESTART, "num_envs": 4, "episodes_per_trial": 3}, [7],
                       teacher=Teacher("replay:explorer", focus=5.0))
    plain = EnvWorker({"name": "house", **SAMESTART, "num_envs": 4, "episodes_per_trial": 3}, [7],
                      teacher="explorer")
    try:
        obs, ref = worker.reset(0, 7), plain.reset(0, 7)
        oracle = worker.envs[0]
        episode, way, labels = np.zeros(4, int), [[] for _ in range(4)], [[] for _ in range(4)]
        won, weights = np.zeros(4, bool), []
        for _ in range(400):
            # episode 1: the oracle walks (and succeeds); episode 2: the agent takes the copy's first 3 steps,
            # then leaves the way (a turn it did not take there) and keeps turning
            act = oracle.oracle_action().astype(np.int64)
            for i in range(4):
                if episode[i] == 1:
                    labels[i].append((int(obs[ORACLE_KEY][i]), int(ref[ORACLE_KEY][i])))
                    weights.append((float(obs[WEIGHT_KEY][i]), labels[i][-1][0] != labels[i][-1][1]))
                    k = len(labels[i]) - 1
                    act[i] = way[i][k] if k < 3 else LEFT if k > 3 or way[i][3] != LEFT else RIGHT
                elif episode[i] == 0:
                    way[i].append(int(act[i]))
            obs, reward, done, _ = worker.step(0, act)
            ref, *_ = plain.step(0, act)
            for i in np.flatnonzero(done):
                won[i] |= episode[i] == 0 and reward[i] > 1
                episode[i] += 1
            if (episode >= 2).all():
                break
        assert won.sum() >= 2
        for i in np.flatnonzero(won):
            copied = [label for label, _ in labels[i][:4]]
            assert copied == way[i][:4]  # on the way: the agent's own actions of the success
            off = labels[i][4:]  # off it: the explorer's labels, as a worker with the explorer alone gives them
            assert len(off) > 5 and [label for label, _ in off] == [r for _, r in off]
        # the focus weighs exactly the labels the copy decided (where the explorer alone would label otherwise)
        assert all(w == (5.0 if differs else 1.0) for w, differs in weights) and any(d for _, d in weights)
    finally:
        worker.close()
        plain.close()
