"""Embedded house simulator: procedural multi-room houses and ReLIC-style multi-object navigation.

Task (DESIGN.md, issue 2). Actions ``{0 stop, 1 forward 0.25 m, 2 turn left 30°, 3 turn right 30°,
4 look up 30°, 5 look down 30°}`` (pitch within ±30°). Observations per env: ``rgb`` (R, R, 3) uint8, ``depth`` (R, R, 1)
float32 metres, ``goal`` one-hot float32 over the 20 categories (``categories.NAMES``), ``gps`` float32
(forward, right) offset in metres from the episode start in the start frame, plus the contract flags and
counters. Stop succeeds within 2 m geodesic of a goal instance that is visible (in the image, no wall in
between); a wrong stop ends the episode; 500-step cap. Reward +2 success, -0.001 per step, plus the
decrease of the geodesic distance to the nearest goal instance. Trials: ``episodes_per_trial`` episodes
in one house (new goal and start each), then a new house. Two trial variants make memory across episodes
directly usable: ``goal_per="trial"`` keeps one goal category for a whole trial (a new start each episode),
``gps_frame="trial"`` measures ``gps`` from the trial's first start (in its frame) instead of the episode's,
and ``start_per="trial"`` (with ``goal_per="trial"``) starts every episode of a trial where its first began.
``goal_position=True`` adds ``goal_gps``, where the goal's instance nearest along the floor from the episode's
start lies, in the frame of ``gps``: privileged, a reference for what remembering the goal's place is worth.
Metrics (``info``, valid where ``is_last``): ``success``, ``spl``, ``soft_spl``, ``distance_to_goal``
(geodesic to the success region), ``episode_length``. SPL's shortest path is the geodesic distance from the start to the success region.

Splits: house seeds are disjoint by construction (``seed % 3``: train 0, val 1, test 2); test houses have
room counts (7-8) that train/val (2-6) never have. ``House.split`` / ``episode_spec()['split']`` record it.

API
---
``make(num_envs=1, split="train", seed=0, episodes_per_trial=32, resolution=64, max_steps=500,
num_houses=None, houses=None, goal_per="episode", gps_frame="episode") -> HouseEnv`` (``envs.contract.Env``; ``act_space = {"action": Discrete(6)}``;
``houses`` = list of hand-made ``layout.from_ascii(...)`` houses replacing the procedural split).
``HouseEnv`` also offers:

- ``oracle_action() -> (N,) int64`` shortest-path oracle; ``random_action(rng) -> (N,)`` random policy;
- ``episode_spec(i) -> dict`` JSON-serialisable description of env i's current episode, and
  ``from_spec(spec, resolution=None) -> HouseEnv`` (one env) whose ``reset()`` starts exactly that
  episode: replaying the recorded actions reproduces the observations bit for bit;
- ``render_topdown(i, size=256, path=True) -> (size, size, 3) uint8``; ``world_to_map(i, xy, size)``
  -> pixel (col, row) of world points on that map; ``agent_pose(i)``; ``episode_path(i)``; ``house(i)``.

Same constructor arguments, seed and actions give bit-identical observations.
"""
from __future__ import annotations

from envs.house import layout

SPEC_KEYS = ("house_seed", "split", "start", "start_heading", "goal_id", "episode_index", "episodes_per_trial",
             "max_steps", "resolution")


def availability() -> tuple[bool, str]:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False, "needs numba: pip install numba"
    return True, "embedded (Numba ray-caster, no extra install)"


CHEAP_TO_BUILD = True  # envs.check_config builds one env to check a run's values before it starts


def make(**cfg):
    """A batch of house-navigation envs (see the module docstring for the arguments)."""
    from envs.house.env import HouseEnv

    cfg.pop("name", None)
    return HouseEnv(**cfg)


def from_spec(spec: dict, resolution: int | None = None):
    """A one-env ``HouseEnv`` whose ``reset()`` starts the episode ``spec`` (from ``episode_spec``) describes."""
    from envs.house.env import HouseEnv

    missing = [k for k in SPEC_KEYS if k not in spec]
    if missing:
        raise ValueError(f"episode spec lacks keys {missing}; it needs {list(SPEC_KEYS)}")
    houses = None
    if "house_map" in spec:
        houses = [layout.from_ascii(spec["house_map"], spec["house_objects"], seed=int(spec["house_seed"]),
                                    split=spec["split"])]
    elif layout.split_of(int(spec["house_seed"])) != spec["split"]:
        raise ValueError(f"episode spec: house_seed {spec['house_seed']} belongs to split "
                         f"{layout.split_of(int(spec['house_seed']))!r}, not {spec['split']!r}")
    env = HouseEnv(num_envs=1, split=spec["split"], seed=int(spec.get("env_seed", 0)),
                   episodes_per_trial=int(spec["episodes_per_trial"]), resolution=int(resolution or spec["resolution"]),
                   max_steps=int(spec["max_steps"]), houses=houses, spec=dict(spec),
                   gps_frame=str(spec.get("gps_frame", "episode")), goal_position=bool(spec.get("goal_position", False)))
    return env


def __getattr__(name: str):
    """``AGENTS``: the scripted frontier explorers (``explorer``, ``explorer_memory``), imported on first use
    (they need Numba, which ``availability`` reports on)."""
    if name == "AGENTS":
        from envs.house.explorer import AGENTS

        return AGENTS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
