"""HouseEnv: a batch of house-navigation environments behind the env contract (envs/contract.py).

State lives in padded NumPy arrays (one slot per env) so that stepping, episode starts, the oracle and
rendering are single Numba calls over the whole batch; only a trial start (loading a house, generated or
from the LRU cache of houses with their distance fields) runs per env in Python. Each env draws its
houses, goals and start poses from its own splitmix64 stream, seeded by (seed, env index).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import gymnasium
import numpy as np
from numba import njit

from envs.contract import Env, Obs, empty_info, flag_spaces
from envs.house import categories, geodesic, layout, oracle, perception, render, task, topdown
from envs.house.layout import CELL
from envs.house.layout import House

METRIC_KEYS = ("success", "spl", "soft_spl", "distance_to_goal", "episode_length")
DEFAULT_HOUSES = {"train": 10_000, "val": 1_000, "test": 1_000}
MIN_START_DIST = 1.0  # episodes start at least this far (geodesic) from the success region
_CACHE: OrderedDict[int, House] = OrderedDict()
CACHE_SIZE = 512
SPEC_VERSION = 1
TRIAL_OPTIONS = ("episode", "trial")  # goal_per / start_per / gps_frame: new every episode, or one per trial


def get_house(seed: int) -> House:
    """The generated house of ``seed``, from an LRU cache (generation and distance fields are reused)."""
    house = _CACHE.get(seed)
    if house is None:
        house = _CACHE[seed] = layout.generate(seed)
        if len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(seed)
    return house


def episode_tables(house: House) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(categories (K,), to_instance (K, h, w), to_success (K, h, w), goal slots (G,), start cells, offsets
    (G + 1,)): what drawing an episode in ``house`` needs; goals are the categories with start cells at least
    ``MIN_START_DIST`` from their success region (cached on the house)."""
    if "episodes" not in house.fields:
        cats, inst, succ = geodesic.house_fields(house)
        goals, starts, offsets = _start_cells(succ, MIN_START_DIST)
        if not len(goals):
            raise ValueError(f"house {house.seed}: no goal category has a start cell >= {MIN_START_DIST} m away")
        house.fields["episodes"] = (cats, inst, succ, goals, starts, offsets)
    return house.fields["episodes"]


@njit(cache=True)
def _start_cells(succ, min_dist):
    """Per category slot with any, the flat indices of cells whose to_success is finite and >= min_dist."""
    k_n = succ.shape[0]
    flat = succ.reshape(k_n, -1)
    starts = np.empty(flat.size, np.int64)
    goals = np.empty(k_n, np.int64)
    offsets = np.zeros(k_n + 1, np.int64)
    g, e = 0, 0
    for k in range(k_n):
        for j in range(flat.shape[1]):
            v = flat[k, j]
            if min_dist <= v < np.inf:
                starts[e] = j
                e += 1
        if e > offsets[g]:
            goals[g] = k
            g += 1
            offsets[g] = e
    return goals[:g].copy(), starts[:e].copy(), offsets[:g + 1].copy()


def _typed_list(item: np.ndarray, n: int):
    from numba.typed import List

    out = List()
    for _ in range(n):
        out.append(item)
    return out


class HouseEnv(Env):
    """``num_envs`` houses stepped together; see the package docstring for the task."""

    metric_keys = METRIC_KEYS

    def __init__(self, num_envs: int = 1, split: str = "train", seed: int = 0, episodes_per_trial: int = 32,
                 resolution: int = 64, max_steps: int = 500, num_houses: int | None = None,
                 houses: list[House] | None = None, spec: dict | None = None, goal_per: str = "episode",
                 gps_frame: str = "episode", start_per: str = "episode", goal_position: bool = False):
        if split not in layout.SPLITS:
            raise ValueError(f"split={split!r} is not allowed; allowed values: {list(layout.SPLITS)}")
        for key, value in (("goal_per", goal_per), ("gps_frame", gps_frame), ("start_per", start_per)):
            if value not in TRIAL_OPTIONS:
                raise ValueError(f"{key}={value!r} is not allowed; allowed values: {list(TRIAL_OPTIONS)}")
        if start_per == "trial" and goal_per != "trial":
            raise ValueError("start_per='trial' needs goal_per='trial': a start cell is drawn for its goal (one that "
                             "can reach it, not too close), so only the same goal can keep the start")
        self.goal_per, self.gps_frame, self.start_per = goal_per, gps_frame, start_per
        if not isinstance(goal_position, (bool, np.bool_)):
            raise ValueError(f"goal_position={goal_position!r} is invalid; expected true or false")
        self.goal_position = bool(goal_position)
        for key, value in (("num_envs", num_envs), ("episodes_per_trial", episodes_per_trial),
                           ("resolution", resolution), ("max_steps", max_steps)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{key}={value!r} is invalid; expected a positive integer")
        if resolution < 8 or resolution > 1024:
            raise ValueError(f"resolution={resolution!r} is invalid; expected 8..1024 pixels")
        self.num_envs, self.split, self.seed = int(num_envs), split, int(seed)
        self.episodes_per_trial, self.resolution, self.max_steps = int(episodes_per_trial), int(resolution), \
            int(max_steps)
        self.num_houses = int(num_houses or DEFAULT_HOUSES[split])
        self.houses = houses  # hand-made houses replace the procedural split when given
        if houses is not None and not houses:
            raise ValueError("houses must be a non-empty list of House")
        n, g, r = self.num_envs, layout.MAX_GRID, resolution
        self.obs_space = {
            "rgb": gymnasium.spaces.Box(0, 255, (r, r, 3), np.uint8),
            "depth": gymnasium.spaces.Box(0, np.inf, (r, r, 1), np.float32),
            "goal": gymnasium.spaces.Box(0, 1, (categories.NUM_CATEGORIES,), np.float32),
            "gps": gymnasium.spaces.Box(-np.inf, np.inf, (2,), np.float32),
            **({"goal_gps": gymnasium.spaces.Box(-np.inf, np.inf, (2,), np.float32)} if self.goal_position else {}),
            **flag_spaces(),
        }
        self.act_space = {"action": gymnasium.spaces.Discrete(task.NUM_ACTIONS)}
        self._grid = np.full((n, g, g), layout.WALL, np.uint8)
        self._room = np.full((n, g, g), -1, np.int8)
        self._style = np.zeros((n, layout.MAX_ROOMS, 10), np.float32)
        self._objects = np.zeros((n, layout.MAX_OBJECTS, 3), np.float64)
        self._nobj = np.zeros(n, np.int64)
        self._f_inst = np.full((n, g, g), np.inf, np.float32)
        self._f_succ = np.full((n, g, g), np.inf, np.float32)
        self._pos = np.zeros((n, 2))
        self._heading = np.zeros(n, np.int64)
        self._pitch = np.zeros(n, np.int64)
        self._start = np.zeros((n, 3))  # x, y, heading
        self._origin = np.zeros((n, 3))  # the trial's first start: the GPS frame with gps_frame="trial"
        self._goal = np.zeros(n, np.int64)
        self._goal_xy = np.zeros((n, 2))  # with goal_position: the nearest goal instance from the episode's start
        self._steps = np.zeros(n, np.int32)
        self._episode = np.zeros(n, np.int32)
        self._path = np.zeros(n)
        self._l0 = np.zeros(n)
        self._prev = np.zeros(n)
        self._house: list[House | None] = [None] * n
        self._rng = self._streams(self.seed)
        # per env, its house's episode tables (episode_tables), read by the Numba episode starter
        self._tables = [_typed_list(np.zeros(1, np.int64), n), _typed_list(np.zeros((1, 1, 1), np.float32), n),
                        _typed_list(np.zeros((1, 1, 1), np.float32), n), _typed_list(np.zeros(1, np.int64), n),
                        _typed_list(np.zeros(1, np.int64), n), _typed_list(np.zeros(1, np.int64), n)]
        self._heights = categories.SIZE[:, 1].copy()
        self._trace = np.zeros((n, self.max_steps + 1, 2), np.float32)  # positions of the current episode
        self._spec = spec  # from_spec: the episode that reset() starts (one env)
        if spec is not None and n != 1:
            raise ValueError("an env started from an episode spec has num_envs=1")
        self._reward = np.zeros(n)

    # ----------------------------------------------------------------- resets
    def reset(self, seed: int | None = None) -> Obs:
        if seed is not None:
            self.seed = int(seed)
            self._rng = self._streams(self.seed)
        if self._spec is not None:
            self._apply_spec(self._spec)
        else:
            for i in range(self.num_envs):
                self._new_trial(i)
            self._begin(np.arange(self.num_envs))
        ones = np.ones(self.num_envs, bool)
        return self._observe(ones, np.zeros_like(ones), np.zeros_like(ones), ones)

    def _streams(self, seed: int) -> np.ndarray:
        """One splitmix64 state per env, from (seed, env index)."""
        return np.array([np.random.SeedSequence([seed, i]).generate_state(1, np.uint64)[0]
                         for i in range(self.num_envs)], np.uint64)

    def _new_trial(self, i: int) -> None:
        if self.houses is not None:
            house = self.houses[task.draw_index(self._rng, i, len(self.houses))]
        else:
            house = get_house(layout.house_seed(self.split, task.draw_index(self._rng, i, self.num_houses)))
        self._load_house(i, house)
        self._episode[i] = 0

    def _load_house(self, i: int, house: House) -> None:
        h, w = house.shape
        self._house[i] = house
        self._grid[i] = layout.WALL
        self._grid[i, :h, :w] = house.grid
        self._room[i] = -1
        self._room[i, :h, :w] = house.room
        self._style[i, :len(house.room_style)] = house.room_style
        self._nobj[i] = len(house.objects)
        self._objects[i, :len(house.objects)] = house.objects
        self._f_inst[i] = np.inf
        self._f_succ[i] = np.inf
        for table, value in zip(self._tables, episode_tables(house)):
            table[i] = value

    def _begin(self, idx: np.ndarray, forced: tuple[int, float, float, int] | None = None) -> None:
        """Start episodes in envs ``idx`` (goal and start drawn, or ``forced`` = (category, x, y, heading))."""
        idx = np.asarray(idx, np.int64)
        cat = np.full(len(idx), -1 if forced is None else forced[0], np.int64)
        pose = np.zeros((len(idx), 3)) if forced is None else np.array([forced[1:]] * len(idx), np.float64)
        keep = (self._episode[idx] > 0) & (self.goal_per == "trial") & (cat < 0)
        task.begin(idx, cat, pose, keep, keep & (self.start_per == "trial"), self._rng, *self._tables, self._f_inst,
                   self._f_succ, self._goal, self._pos,
                   self._heading, self._pitch, self._start, self._steps, self._path, self._trace, self._l0,
                   self._prev)
        first = idx[self._episode[idx] == 0]
        self._origin[first] = self._start[first]
        if self.goal_position:
            task.nearest_instances(idx, self._f_inst, self._objects, self._nobj, self._goal, self._pos, self._goal_xy)

    # ------------------------------------------------------------------ step
    def step(self, action: dict[str, np.ndarray]) -> tuple[Obs, np.ndarray, np.ndarray, dict[str, Any]]:
        if not isinstance(action, dict) or "action" not in action:
            raise ValueError("step expects a dict {'action': int array of shape (num_envs,)}")
        a = task.check_actions(action["action"], self.num_envs)
        n = self.num_envs
        done, terminal = np.zeros(n, bool), np.zeros(n, bool)
        info = empty_info(self.metric_keys, n)
        task.advance(a, self._grid, self._f_inst, self._f_succ, self._objects, self._nobj, self._goal,
                     self._heights, self._pos, self._heading, self._pitch, self._steps, self._path, self._prev,
                     self._l0, self._trace, self.max_steps, self._reward, done, terminal, info["success"],
                     info["spl"], info["soft_spl"], info["distance_to_goal"], info["episode_length"])
        reward = self._reward.astype(np.float32)
        idx = np.flatnonzero(done)
        trial = np.zeros(n, bool)
        if len(idx):
            trial[idx] = self._episode[idx] + 1 >= self.episodes_per_trial
            self._episode[idx] += 1
            for i in idx[trial[idx]]:
                self._new_trial(i)
            self._begin(idx)
        obs = self._observe(done, done, terminal, trial)
        return obs, reward, done, info

    def _observe(self, first, last, terminal, trial) -> Obs:
        n, r = self.num_envs, self.resolution
        rgb, depth = np.empty((n, r, r, 3), np.uint8), np.empty((n, r, r, 1), np.float32)
        render.render(self._grid, self._room, self._style, self._objects, self._nobj, self._pos, self._heading,
                      self._pitch, categories.SHAPE, categories.COLOR, categories.SIZE, rgb, depth)
        goal, gps = np.empty((n, categories.NUM_CATEGORIES), np.float32), np.empty((n, 2), np.float32)
        frame = self._origin if self.gps_frame == "trial" else self._start
        task.goal_and_gps(self._goal, self._pos, frame, goal, gps)
        extra = {}
        if self.goal_position:
            extra["goal_gps"] = np.empty((n, 2), np.float32)
            task.goal_and_gps(self._goal, self._goal_xy, frame, np.empty_like(goal), extra["goal_gps"])
        return {"rgb": rgb, "depth": depth, "goal": goal, "gps": gps, **extra,
                "is_first": first.copy(), "is_last": last.copy(), "is_terminal": terminal.copy(),
                "is_trial_first": trial.copy(), "episode_index": self._episode.copy(),
                "step_index": self._steps.copy()}

    # --------------------------------------------------------------- helpers
    def oracle_action(self) -> np.ndarray:
        """Best next action per env (N,) int64: the shortest-path oracle."""
        out = np.zeros(self.num_envs, np.int64)
        oracle.oracle(self._grid, self._f_inst, self._f_succ, self._objects, self._nobj, self._goal,
                      self._heights, self._pos, self._heading, self._pitch, out)
        return out

    def world(self) -> dict[str, np.ndarray]:
        """The batch's live state arrays (read-only by convention) for scripted agents that map the house:
        ``grid`` (N, G, G) cell codes, ``objects`` (N, M, 3) x, y, category, ``nobj``, ``heights`` per category,
        ``pos`` (N, 2) m, ``heading``, ``pitch``, ``goal`` category."""
        return {"grid": self._grid, "objects": self._objects, "nobj": self._nobj, "heights": self._heights,
                "pos": self._pos, "heading": self._heading, "pitch": self._pitch, "goal": self._goal}

    def perception_labels(self) -> np.ndarray:
        """``(num_envs, perception.NUM_LABELS)`` float32: what each camera can know (envs/house/perception.py)."""
        out = np.zeros((self.num_envs, perception.NUM_LABELS), np.float32)
        for n in range(self.num_envs):
            perception.fill(self._grid[n], self._tables[1][n], self._tables[0][n], self._objects[n], self._nobj[n],
                            self._heights, self._pos[n, 0], self._pos[n, 1], int(self._heading[n]),
                            int(self._pitch[n]), out[n])
        return out

    def random_action(self, rng: np.random.Generator) -> np.ndarray:
        return oracle.random_actions(rng, self.num_envs)

    def house(self, i: int) -> House:
        return self._house[i]

    def episode_spec(self, i: int) -> dict:
        """JSON-serialisable description of env ``i``'s current episode; ``from_spec`` restarts it."""
        house = self._house[i]
        spec = {"version": SPEC_VERSION, "house_seed": int(house.seed), "split": house.split,
                "layout": house.params, "start": [float(v) for v in self._start[i, :2]],
                "start_heading": int(self._start[i, 2]), "goal": categories.NAMES[int(self._goal[i])],
                "goal_id": int(self._goal[i]), "episode_index": int(self._episode[i]),
                "episodes_per_trial": self.episodes_per_trial, "max_steps": self.max_steps,
                "resolution": self.resolution, "env_seed": self.seed}
        if self.gps_frame == "trial":
            spec["gps_frame"], spec["gps_origin"] = "trial", [float(v) for v in self._origin[i]]
        if self.goal_position:
            spec["goal_position"] = True
        if house.params.get("hand_made"):
            spec["house_map"], spec["house_objects"] = layout.to_ascii(house)
        return spec

    def _apply_spec(self, spec: dict) -> None:
        house = self.houses[0] if self.houses else get_house(int(spec["house_seed"]))
        self._load_house(0, house)
        self._episode[0] = int(spec["episode_index"])
        self._begin(np.zeros(1, np.int64), (int(spec["goal_id"]), float(spec["start"][0]), float(spec["start"][1]),
                                             int(spec["start_heading"])))
        if self.gps_frame == "trial":
            self._origin[0] = spec["gps_origin"]
        if not house.navigable()[int(spec["start"][1] / CELL), int(spec["start"][0] / CELL)]:
            raise ValueError(f"episode spec: start {spec['start']} is not on a navigable cell of house {house.seed}")

    def render_topdown(self, i: int, size: int = 256, path: bool = True) -> np.ndarray:
        """Top-down map (size, size, 3) uint8 of env ``i``: house, goal instances, success region, agent, path."""
        house = self._house[i]
        trace = self._trace[i, :self._steps[i] + 1] if path else None
        return topdown.draw(house, size, int(self._goal[i]), self._f_succ[i], (self._pos[i, 0], self._pos[i, 1],
                            int(self._heading[i])), trace)

    def world_to_map(self, i: int, xy: np.ndarray, size: int) -> np.ndarray:
        """Pixel coordinates (col, row) on ``render_topdown(i, size)`` of world points ``xy`` (..., 2) metres."""
        return topdown.world_to_map(self._house[i].shape, xy, size)

    def episode_path(self, i: int) -> np.ndarray:
        """Positions (T+1, 2) metres of env ``i`` in its current episode so far."""
        return self._trace[i, :self._steps[i] + 1].copy()

    def agent_pose(self, i: int) -> dict:
        """Position (m), heading (degrees, index*30) and pitch (degrees) of env ``i``."""
        return {"x": float(self._pos[i, 0]), "y": float(self._pos[i, 1]), "heading": int(self._heading[i]) * 30,
                "pitch": int(self._pitch[i]) * 30}
