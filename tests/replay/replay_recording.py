"""Recording episodes from the real house simulator for the replay tests."""
from __future__ import annotations

import numpy as np

import envs
from embodied.replay.recorder import EpisodeRecorder


def record(directory, which="all", frames=False, episodes=6, policy="oracle", seed=5, num_envs=3,
           episodes_per_trial=2, resolution=32, attention=None):
    """Run the house env and record; returns (recorder, per-episode log of (actions, rewards, metrics))."""
    env = envs.make("house", num_envs=num_envs, split="test", seed=seed, episodes_per_trial=episodes_per_trial,
                    resolution=resolution)
    rec = EpisodeRecorder(directory, which=which, frames=frames, meta={"policy": policy})
    rng = np.random.default_rng(seed)
    obs = env.reset(seed=seed)
    rec.reset(env, obs)
    log, running = [], [([], []) for _ in range(num_envs)]
    while len(log) < episodes:
        action = env.oracle_action() if policy == "oracle" else env.random_action(rng)
        if policy == "mixed":  # some successes, some failures
            action = np.where(rng.random(num_envs) < 0.8, env.oracle_action(), env.random_action(rng))
        att = attention(env, obs) if attention else None
        obs, reward, done, info = env.step({"action": action})
        rec.step(env, action, obs, reward, info, attention=att)
        for i in range(num_envs):
            running[i][0].append(int(action[i]))
            running[i][1].append(float(reward[i]))
            if done[i]:
                log.append((running[i][0], running[i][1], {k: float(v[i]) for k, v in info.items()}))
                running[i] = ([], [])
    env.close()
    return rec, log
