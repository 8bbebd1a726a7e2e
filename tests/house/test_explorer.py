"""The scripted memory references (envs/house/explorer.py): their map, their frontier distance, and the gain
memory makes possible on test houses."""
from __future__ import annotations

import math

import numpy as np
import pytest

import envs
from embodied import cli
from envs.house import explorer
from envs.house.geometry import in_view, line_of_sight
from envs.house.layout import CELL, DOOR, FREE, MAX_GRID, MAX_OBJECTS, WALL
from envs.house.perception import SEE_DIST


def _run(memory: bool, trials: int, episodes: int, max_steps: int, seed: int = 0, split: str = "test"):
    """Success per (trial, episode) and, per step, (episode index, action, oracle action, map before acting)."""
    env = envs.make("house", num_envs=trials, split=split, seed=seed, episodes_per_trial=episodes, resolution=8,
                    max_steps=max_steps)
    agent = explorer.FrontierExplorer(memory=memory)
    obs = env.reset(seed=seed)
    agent.reset(env, obs)
    success = np.full((trials, episodes), np.nan)
    while np.isnan(success).any():
        episode = obs["episode_index"].copy()
        action = agent.act(env, obs)
        obs, reward, done, info = env.step({"action": action})
        agent.commit(action, reward)
        for i in np.flatnonzero(done & (episode < episodes)):
            if np.isnan(success[i, episode[i]]):
                success[i, episode[i]] = info["success"][i]
    return success


def test_memory_reference_gains_and_memoryless_one_does_not():
    """On unseen (test) houses with an 80-step cap, keeping the map lifts success well above episode 1; the
    explorer that forgets it every episode stays where it started."""
    mem = _run(True, trials=48, episodes=10, max_steps=80)
    flat = _run(False, trials=48, episodes=10, max_steps=80)
    assert np.array_equal(mem[:, 0], flat[:, 0])  # the same first episodes: memory cannot act before it exists
    gain_mem = mem[:, 5:].mean() - mem[:, 0].mean()
    gain_flat = flat[:, 5:].mean() - flat[:, 0].mean()
    assert gain_mem >= 0.2, (gain_mem, mem.mean(0))
    assert abs(gain_flat) <= 0.15, (gain_flat, flat.mean(0))
    assert mem[:, 5:].mean() >= flat[:, 5:].mean() + 0.2


def test_map_marks_only_cells_rays_can_reach_and_seen_objects_pass_the_visibility_test():
    env = envs.make("house", num_envs=6, split="train", seed=3, resolution=8, max_steps=60)
    obs = env.reset()
    rng = np.random.default_rng(0)
    known = np.zeros((6, MAX_GRID, MAX_GRID), bool)
    seen = np.zeros((6, MAX_OBJECTS), bool)
    w = env.world()
    for _ in range(30):
        before = known.copy()
        explorer.observe(w["grid"], w["objects"], w["nobj"], w["heights"], w["pos"], w["heading"], w["pitch"],
                         known, seen)
        assert (known | before).sum() == known.sum()  # the map only grows
        for n in range(6):
            x, y, k = w["pos"][n, 0], w["pos"][n, 1], int(w["heading"][n])
            new = np.argwhere(known[n] & ~before[n])
            assert len(new) > 0 or before[n].any()
            for r, c in new:
                cx, cy = (c + 0.5) * CELL, (r + 0.5) * CELL
                # a marked cell is within range, in the 90° fan and reached by a ray before any wall
                d = math.hypot(cx - x, cy - y)
                assert d <= SEE_DIST + CELL
                if d < 1.5 * CELL:  # the agent's own cell and its neighbours: any direction
                    continue
                ang = (math.atan2(cy - y, cx - x) - k * math.pi / 6 + math.pi) % (2 * math.pi) - math.pi
                assert abs(ang) <= math.pi / 4 + math.atan2(CELL, d)
        obs, *_ = env.step({"action": rng.integers(1, 4, 6)})
    # an instance that is visible right now (the simulator's own test) is marked seen
    explorer.observe(w["grid"], w["objects"], w["nobj"], w["heights"], w["pos"], w["heading"], w["pitch"], known, seen)
    for n in range(6):
        x, y, k, p = w["pos"][n, 0], w["pos"][n, 1], int(w["heading"][n]), int(w["pitch"][n])
        for i in range(w["nobj"][n]):
            ox, oy, cat = w["objects"][n, i]
            visible = (math.hypot(ox - x, oy - y) <= SEE_DIST and in_view(x, y, k, p, ox, oy, 0.5 * w["heights"][int(cat)])
                       and line_of_sight(w["grid"][n], x, y, ox, oy))
            assert seen[n, i] or not visible


@pytest.mark.parametrize("seed", range(5))
def test_frontier_field_is_the_breadth_first_distance_to_the_frontier(seed):
    """Zero exactly on seen free cells next to unseen ones; elsewhere on seen free cells one cell more than the
    best neighbour (the Bellman equation of 4-connected distance); infinite where no frontier is reachable."""
    rng = np.random.default_rng(seed)
    h = w = 24
    grid = np.where(rng.random((h, w)) < 0.2, WALL, FREE).astype(np.uint8)
    grid[rng.random((h, w)) < 0.05] = DOOR
    known = rng.random((h, w)) < 0.8
    field = np.zeros((h, w), np.float32)
    explorer.frontier_field(grid, known, field, np.zeros(h * w, np.int64))
    free = known & ((grid == FREE) | (grid == DOOR))
    for r in range(h):
        for c in range(w):
            nbrs = [(r + dr, c + dc) for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)) if 0 <= r + dr < h and 0 <= c + dc < w]
            if not free[r, c]:
                assert field[r, c] == np.inf
            elif any(not known[q] for q in nbrs):
                assert field[r, c] == 0
            else:
                best = min((field[q] for q in nbrs if free[q]), default=np.inf)
                assert field[r, c] == pytest.approx(best + CELL) if best < np.inf else field[r, c] == np.inf


def test_memory_explorer_follows_the_oracle_when_it_has_already_seen_the_goal():
    env = envs.make("house", num_envs=8, split="test", seed=1, episodes_per_trial=6, resolution=8, max_steps=80)
    agent = explorer.FrontierExplorer(memory=True)
    obs = env.reset()
    agent.reset(env, obs)
    checked = 0
    for _ in range(300):
        goal = env.world()["goal"].copy()
        known_goal = np.array([any(agent._seen[n, i] and int(env.world()["objects"][n, i, 2]) == goal[n]
                                   for i in range(env.world()["nobj"][n])) if agent._seen is not None else False
                               for n in range(8)]) & ~obs["is_trial_first"]
        oracle = env.oracle_action()
        action = agent.act(env, obs)
        assert np.array_equal(action[known_goal], oracle[known_goal])
        checked += int(known_goal.sum())
        obs, reward, done, info = env.step({"action": action})
    assert checked > 100


def test_sim_runs_the_explorers(tmp_path):
    for policy in ("explorer", "explorer_memory"):
        out = tmp_path / f"{policy}.json"
        rc = cli.main(["sim", f"policy={policy}", "split=test", "episodes=8", "num_envs=4", "env.resolution=16",
                       "env.max_steps=80", f"metrics={out}"])
        assert rc == 0 and out.exists()
    assert cli.main(["sim", "policy=explorer_forgetful"]) == 2


def test_eval_runs_the_memory_explorer_and_records_its_episodes(tmp_path):
    import json

    rc = cli.main(["eval", "policy=explorer_memory", "split=test", "trials=2", "episodes=2", "cluster=inprocess",
                   "references=none", "resolution=16", "videos=0", f"out={tmp_path}"])
    assert rc == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert "explorer_memory" in json.dumps(metrics)
    assert any((tmp_path / "episodes").iterdir())
