"""``embodied train [key=value ...]``: train a policy with PPO with partial updates; see configs/train.yaml."""
from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from embodied.config import ConfigError, check, choice, load, positive_int
from embodied.learner import checkpoint
from embodied.atomic import write_atomic
import envs

log = logging.getLogger("embodied.train")
HELP = """usage: embodied train [key=value ...]

Trains with PPO with partial updates; every key is documented in configs/train.yaml and its groups
(env=, policy=gru|relic_small|relic, trainer=ppo_partial, cluster=local|inprocess|ray). Examples:
  embodied train                                   # default small CPU config on house train houses
  embodied train policy=relic_small policy.inter_episode=false cluster=inprocess
  embodied train cluster=ray cluster.address=auto trainer.num_envs=64
  embodied train resume=runs/NAME trainer.total_steps=2000000   # continue a run (Ctrl-C and errors save first)
  embodied train init_from=runs/NAME name=NEW      # a new run starting from another run's policy weights
Writes runs/NAME/: config.yaml, train.log, metrics.csv, tb/ (TensorBoard), checkpoints/, episodes/ (record=...)."""


def validate(cfg: DictConfig, overrides: Sequence[str] = ()) -> None:
    """Fail at start-up, naming the key, on values the trainer cannot run with, and on policy keys set by
    ``overrides`` (the command line) that the policy does not read."""
    for key in ("trainer.num_envs", "trainer.rollout_steps", "trainer.update_every", "trainer.total_steps",
                "trainer.epochs", "trainer.minibatches", "trainer.stats_window", "trainer.checkpoint_every",
                "trainer.keep_checkpoints", "cluster.num_workers"):
        positive_int(cfg, key)
    choice(cfg, "cluster.mode", ("inprocess", "local", "ray"))
    choice(cfg, "trainer.device", ("auto", "cpu", "cuda"))
    def threads(lowest: int) -> Callable[[Any], bool]:
        return lambda n: n == "auto" or (isinstance(n, int) and not isinstance(n, bool) and n >= lowest)

    check(cfg, "trainer.torch_threads", threads(1), "auto or a positive integer")
    check(cfg, "trainer.update_threads", threads(0), "0 (torch_threads), auto or a positive integer")
    check(cfg, "trainer.overlap_updates", lambda v: isinstance(v, bool) or v == "auto", "true, false or auto")
    T = cfg.trainer.rollout_steps
    check(cfg, "trainer.update_every", lambda u: T % u == 0, f"a divisor of trainer.rollout_steps={T}")
    if "double_buffer" in cfg.cluster:
        check(cfg, "cluster.double_buffer", lambda d: isinstance(d, bool) or d == "auto", "true, false or auto")
    from embodied.learner.background import overlap_planned
    from embodied.rollout.collector import double_buffer

    doubled = double_buffer(cfg.cluster, overlap_planned(cfg))
    halves = 2 if doubled else 1
    batches = halves * cfg.cluster.num_workers
    check(cfg, "trainer.num_envs", lambda n: n % batches == 0,
          f"a multiple of {halves} x cluster.num_workers = {batches} (an env batch per worker and half of the "
          f"double buffer, cluster.double_buffer={str(doubled).lower()})")
    check(cfg, "trainer.minibatches", lambda m: m <= cfg.trainer.num_envs, "at most trainer.num_envs")
    for key in ("trainer.lr", "trainer.clip", "trainer.max_grad_norm", "trainer.reward_scale",
                "trainer.imitation_focus"):
        check(cfg, key, lambda v: isinstance(v, (int, float)) and v > 0, "a positive number")
    for key in ("trainer.gamma", "trainer.lam", "trainer.lr_floor"):
        check(cfg, key, lambda v: isinstance(v, (int, float)) and 0 <= v <= 1, "a number in [0, 1]")
    from embodied.learner.ppo import ENCODER_GRAD, grad_context_steps

    check(cfg, "trainer.grad_context", lambda g: _parses(grad_context_steps, g), "full, none or a positive integer")
    choice(cfg, "trainer.encoder_grad", ENCODER_GRAD)
    coef = cfg.trainer.imitation_coef
    check(cfg, "trainer.imitation_floor", lambda f: isinstance(f, (int, float)) and 0 <= f <= max(coef, 0),
          f"a number in [0, trainer.imitation_coef={coef}] (the weight decays from imitation_coef to it)")
    agent = None  # the teacher's scripted agent (None: no teacher, or the oracle)
    if coef > 0:
        agents = envs.scripted_agents(cfg.env.name)
        teachers = ("oracle", *agents)
        choice(cfg, "trainer.imitation_teacher", (*teachers, *(f"replay:{t}" for t in teachers)))
        agent = agents.get(cfg.trainer.imitation_teacher)  # None for replay: (no recall; its twin is the one it wraps)
        if cfg.trainer.imitation_focus != 1 and not cfg.trainer.imitation_teacher.startswith("replay:"):
            from embodied.rollout.transforms import forgetful_twin

            check(cfg, "trainer.imitation_focus", lambda _: _parses(forgetful_twin, agent), "1 with a teacher "
                  "that has no forgetful twin (house: trainer.imitation_teacher=explorer_memory has one)")
    check(cfg, "trainer.recall_coef", lambda r: isinstance(r, (int, float)) and r >= 0, "a number >= 0")
    if cfg.trainer.recall_coef > 0:
        check(cfg, "trainer.recall_coef", lambda _: hasattr(agent, "recall"), "0 without a teacher that has a "
              "memory to recall the goal from (trainer.imitation_coef > 0 and, on the house, "
              "trainer.imitation_teacher=explorer_memory)")
    check(cfg, "trainer.memory_dropout", lambda p: isinstance(p, (int, float)) and 0 <= p < 1, "a number in [0, 1)")
    if cfg.trainer.memory_dropout > 0:
        check(cfg, "trainer.memory_dropout", lambda _: cfg.policy.get("inter_episode", True), "0 with "
              "policy.inter_episode=false (the policy has no memory of earlier episodes to cut)")
    if cfg.get("record", "none") != "none":
        from embodied.replay.recorder import parse_which

        check(cfg, "record", lambda w: _parses(parse_which, str(w)), "none, all, failures or every:K")
    if cfg.cluster.mode == "ray":
        check(cfg, "cluster.address", lambda a: bool(a), "a Ray address (HOST:PORT, ray://HOST:PORT or auto)")
    from embodied.policy import check_config

    check_config(cfg.policy, overrides)


def _parses(parse: Callable[[Any], Any], value: Any) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def _setup_logging(run_dir: Path) -> None:
    handler = logging.FileHandler(run_dir / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    console.setLevel(logging.WARNING)
    root = logging.getLogger("embodied")
    root.setLevel(logging.INFO)
    root.handlers[:] = [handler, console]


def prepare(cfg: DictConfig, overrides: list[str] = ()) -> tuple[DictConfig, Path, dict | None]:
    """The config to run, its run directory and the checkpoint to resume from (or None).

    On resume the run's saved config is used, with the keys and groups named in ``overrides`` (e.g.
    ``trainer.total_steps=...``, ``cluster=inprocess``) taken from ``cfg``, the freshly composed config.
    """
    if cfg.get("resume") and cfg.get("init_from"):
        raise ConfigError("resume= continues a run with its own weights and init_from= starts a new one from "
                          "another run's: give one of them")
    if cfg.get("resume"):
        file = checkpoint.resolve(cfg.resume)
        data = checkpoint.read(file)
        saved = checkpoint.config_of(data)
        for item in overrides:
            key = item.split("=", 1)[0].lstrip("+~")
            if key != "resume":
                OmegaConf.update(saved, key, OmegaConf.select(cfg, key), merge=False, force_add=True)
        run_dir = file.parent.parent
        saved.resume = str(run_dir)
        validate(saved, overrides)
        return saved, run_dir, data
    validate(cfg, overrides)
    if cfg.get("init_from"):
        checkpoint.initial_weights(cfg.init_from, cfg.policy)  # a missing or unfitting checkpoint fails here
    name = cfg.name or time.strftime("train-%Y%m%d-%H%M%S")
    run_dir = Path(cfg.runs_dir) / name
    if checkpoint.checkpoint_dir(run_dir).exists() and any(checkpoint.checkpoint_dir(run_dir).glob("ckpt-*.pt")):
        raise ConfigError(f"name={name!r}: {run_dir} already holds checkpoints; continue it with resume={run_dir} "
                          "or choose another name")
    cfg = cfg.copy()
    cfg.name = name
    return cfg, run_dir, None


def main(argv: list[str]) -> int:
    """``embodied train [key=value ...]`` (parses its own overrides to apply them on resume too)."""
    if {"-h", "--help"} & set(argv):
        print(HELP)
        return 0
    from embodied.learner import distributed
    from embodied.learner.trainer import Trainer, TrainingFailed
    from embodied.rollout import cluster

    rank = distributed.from_env()  # under torchrun: one data-parallel rank of several
    composed = load("train", argv)
    if rank is not None and not (composed.name or composed.resume):
        raise ConfigError("name: required under torchrun (every rank must agree on the run directory)")
    try:
        cfg, run_dir, resume = prepare(composed, argv)
    except checkpoint.CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    env_cfg = OmegaConf.to_container(cfg.env, resolve=True)
    if cfg.cluster.mode in ("local", "inprocess"):  # the env workers run here: fail now, in one line
        problem = envs.start_problem(cfg.env.name, env_cfg)
        if problem:
            raise ConfigError(f"env={cfg.env.name}: {problem}")
    try:  # a bad env value fails before the run directory and Ray, not in a worker
        envs.check_config(cfg.env.name, env_cfg)
    except (ValueError, TypeError) as e:
        raise ConfigError(f"env={cfg.env.name}: {e}") from None
    if rank is None or rank.main:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
        _setup_logging(run_dir)
        log.info("run directory %s%s", run_dir, " (resumed)" if resume else "")
        print(f"run directory: {run_dir}", file=sys.stderr)
    with cluster.started(cfg) as remote:
        try:
            trainer = Trainer(cfg, run_dir, remote, resume=resume, progress=bool(cfg.progress),
                              tensorboard=bool(cfg.tensorboard), rank=rank)
        except checkpoint.CheckpointError as e:  # init_from's weights built for another env's spaces
            print(f"error: {e}", file=sys.stderr)
            return 2
        try:
            result = trainer.train()
        except TrainingFailed as e:  # the traceback is in train.log; here one line with the way on
            print(f"error: {e}", file=sys.stderr)
            return 1
        finally:
            trainer.close()
            distributed.finish()
    print(json.dumps({"run_dir": str(run_dir), **({"rank": rank.rank} if rank else {}), **result}, default=float))
    return 0
