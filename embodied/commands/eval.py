"""``embodied eval policy=oracle|random|CHECKPOINT split=test trials=N episodes=K [fewshot=n]``.

Runs the policy (``oracle``, ``random`` or a checkpoint file / run directory) on unseen houses (Ray
workers by default) and writes metrics.json, episodes.jsonl, curve.png, recorded episodes, videos and
report.html into ``out`` (printed at the end).
"""
from __future__ import annotations

import time
from pathlib import Path

from omegaconf import DictConfig, ListConfig, OmegaConf

from embodied.config import ConfigError, Reads, check, choice, load_keys, positive_int
from embodied.rollout.actor import BUILTIN
from embodied.evaluation.evaluate import EvalSettings, evaluate, policy_label, trial_variant


def _nonneg_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def settings(cfg: DictConfig | Reads) -> EvalSettings:
    """Validate the config at start-up (every error names its key) and resolve defaults."""
    policy = check(cfg, "policy", lambda v: isinstance(v, str) and bool(v),
                   f"one of {list(BUILTIN)} or the path of a checkpoint")
    check(cfg, "split", lambda v: isinstance(v, str) and bool(v), "a split name (house: train, val, test)")
    choice(cfg, "cluster", ["inprocess", "local", "ray"])
    for key in ("trials", "episodes", "chunk_size", "video_size"):
        positive_int(cfg, key)
    for key in ("fewshot", "seed", "videos"):
        check(cfg, key, _nonneg_int, "an integer >= 0")
    if cfg.fewshot >= cfg.episodes:
        raise ConfigError(f"fewshot={cfg.fewshot} is invalid; expected fewer than episodes={cfg.episodes}")
    if cfg.video_size % 2:
        raise ConfigError(f"video_size={cfg.video_size} is invalid; expected an even number of pixels")
    check(cfg, "record", lambda v: v in ("all", "none", "failures") or
          (isinstance(v, str) and v.startswith("every:") and v[6:].isdigit() and int(v[6:]) > 0),
          "all, none, failures or every:K")
    if cfg.cluster == "ray" and not cfg.address:
        raise ConfigError("address=null is invalid with cluster=ray; expected the Ray cluster address")
    if cfg.workers is not None:
        positive_int(cfg, "workers")

    env = {"name": "house", "resolution": cfg.resolution}
    import envs

    scripted = [*BUILTIN, *envs.scripted_agents("house")]  # without a checkpoint the env is the house
    if policy not in scripted:
        if not Path(policy).exists():
            raise ConfigError(f"policy={policy!r} is not allowed: not {scripted} and no such checkpoint")
        from embodied.learner.checkpoint import load_policy

        _, train_cfg = load_policy(policy, "cpu")  # fails early, naming the file, if it is not a checkpoint
        env = env_of(train_cfg, cfg.resolution)
    if env["name"] == "house":
        choice(cfg, "split", ["train", "val", "test"])
        env["resolution"] = 64 if env["resolution"] is None else env["resolution"]
        if not _nonneg_int(env["resolution"]) or env["resolution"] == 0:
            raise ConfigError(f"resolution={env['resolution']!r} is invalid; expected a positive integer")
    if envs.takes(env["name"], "split"):
        env["split"] = cfg.split  # the backend's own check names allowed splits (house: train, val, test)
    known = [*BUILTIN, *envs.scripted_agents(env["name"])]
    if env["name"] != "house":  # the oracle only where the backend has one
        try:
            probe = envs.make(**env, num_envs=1, seed=0, episodes_per_trial=1)
        except ValueError as e:
            raise ConfigError(str(e)) from None
        if not hasattr(probe, "oracle_action"):
            known.remove("oracle")
        probe.close()
        if cfg.fewshot > 0 and "oracle" not in known:
            raise ConfigError(f"fewshot={cfg.fewshot} is invalid: env {env['name']!r} has no oracle to demonstrate")
    refs = cfg.references
    if refs == "auto":
        refs = [p for p in known if p != policy]
    elif refs in ("none", None):
        refs = []
    elif isinstance(refs, (list, ListConfig)) and all(r in known for r in refs):
        refs = list(refs)
    else:
        raise ConfigError(f"references={refs!r} is not allowed; allowed values: auto, none, or a list of {known}")
    return EvalSettings(
        policy=policy, split=cfg.split, trials=cfg.trials, episodes=cfg.episodes, fewshot=cfg.fewshot,
        seed=cfg.seed, env=env, references=tuple(refs), greedy=bool(cfg.greedy),
        cluster=cfg.cluster, address=cfg.address, workers=cfg.workers, chunk_size=cfg.chunk_size,
        record=cfg.record, record_frames=bool(cfg.record_frames), videos=cfg.videos, video_size=cfg.video_size)


def env_of(train_cfg: DictConfig, resolution: int | None = None) -> dict:
    """The env a checkpoint is evaluated on: its training backend and task keys (the house: its resolution,
    unless ``resolution`` is given, and trial variant; not the training episode cap), without the split."""
    env = OmegaConf.to_container(train_cfg.env, resolve=True)
    if env.get("name", "house") == "house":
        return {"name": "house", "resolution": resolution or env.get("resolution"), **trial_variant(train_cfg)}
    return {k: v for k, v in env.items() if k not in ("num_envs", "episodes_per_trial", "seed", "split")}


def main(argv: list[str]) -> int:
    """eval.yaml has no config groups: its keys are read plainly (``policy=``, ``cluster=`` are its own keys, not
    the training groups of the same names)."""
    if any(a in ("-h", "--help") for a in argv):
        import configs

        print(__doc__.strip() + "\n\nkeys (configs/eval.yaml):\n" + (Path(configs.__file__).parent / "eval.yaml").read_text())
        return 0
    return run(load_keys("eval", argv), argv)


def run(cfg: DictConfig | Reads, overrides: list[str] = ()) -> int:
    """``overrides``: the command line's ``key=value`` items; one that names a key nothing reads is an error."""
    cfg = cfg if isinstance(cfg, Reads) else Reads(cfg)
    s = settings(cfg)
    out = Path(cfg.out) if cfg.out else Path("runs/eval") / f"{policy_label(s.policy)}-{s.split}-{time.strftime('%Y%m%d-%H%M%S')}"
    cfg.reject_unread(overrides, "eval")
    metrics = evaluate(s, out)
    for name, result in metrics["policies"].items():
        curve = result["curve"]
        shown = [m for m in ("success", "spl", "return") if m in curve][:2]
        print(f"{name:>12s}  per episode index: " + "   ".join(
            f"{m} " + " ".join(f"{p['mean']:.2f}" for p in curve[m]) for m in shown))
    print(f"report: {out / 'report.html'}")
    return 0
